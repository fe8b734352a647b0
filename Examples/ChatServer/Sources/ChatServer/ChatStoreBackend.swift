import ArgumentParser
import ChatMemory
import Logging
import ChatMemoryRedis
import ServiceLifecycle

/// Which storage a worker's ``RedisChatMemory`` uses.
enum StoreKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Redis: shared by every worker that points at the same Redis.
    case redis
    /// ``EmbeddedChatStorage``: this process only (for comparing the cost of sharing).
    case embedded
}

/// The store a worker keeps conversations in, and the services it needs.
struct ChatStoreBackend: Sendable {
    let memory: RedisChatMemory
    /// The counter the store writes with; the same counts decide what fits a window.
    let counter: any TokenCounter
    /// The Redis client (a `Service`, closed when the application's service group shuts down),
    /// or none for the embedded store.
    let services: [any Service]

    /// `redis` is where Redis is (the Redis store), `nil` for the embedded store; `replication`
    /// makes every append wait for that many replicas (Redis store only). With `compaction`, a
    /// conversation whose stored tokens pass its threshold is compacted in the background by
    /// `summarizer`.
    init(redis: RedisConfiguration?, replication: ChatMemoryConfiguration.Replication? = nil, compaction: Compaction?,
         summarizer: any ChatSummarizer, logger: Logger) throws {
        var configuration = ChatMemoryConfiguration()
        configuration.replication = replication
        if let compaction {
            configuration.compaction.automatic = AutomaticCompaction(
                thresholdTokens: compaction.thresholdTokens, targetTokens: compaction.targetTokens, summarizer: summarizer)
        }
        counter = configuration.tokenCounter
        if let redis {
            let client = RedisClient(configuration: redis, logger: logger)
            memory = try RedisChatMemory(client: client, configuration: configuration, logger: logger)
            services = [client]
            // The endpoint only: the configuration's credentials are never logged.
            logger.info("chat memory in Redis", metadata: ["redis": "\(redis.topology == .standalone ? "\(redis.endpoint)" : "\(redis.topology)")", "db": "\(redis.database)",
                                                      "replicas": "\(replication?.replicas ?? 0)"])
        } else {
            memory = try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration, logger: logger)
            services = []
        }
    }
}

/// When a conversation is compacted: past `thresholdTokens` stored, down to `targetTokens` of
/// messages (the summary comes on top).
struct Compaction: Sendable {
    var thresholdTokens: Int
    var targetTokens: Int
}
