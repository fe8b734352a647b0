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

/// The store a worker keeps conversations in, and what must be closed when it stops.
struct ChatStoreBackend: Sendable {
    let memory: RedisChatMemory
    /// The counter the store writes with; the same counts decide what fits a window.
    let counter: any TokenCounter
    private let client: RedisClient?

    /// `redis` is where Redis is (the Redis store), `nil` for the embedded store; `replication`
    /// makes every append wait for that many replicas (Redis store only).
    init(redis: RedisConfiguration?, replication: ChatMemoryConfiguration.Replication? = nil, logger: Logger) throws {
        var configuration = ChatMemoryConfiguration()
        configuration.replication = replication
        counter = configuration.tokenCounter
        if let redis {
            let client = RedisClient(configuration: redis, logger: logger)
            memory = try RedisChatMemory(client: client, configuration: configuration, logger: logger)
            self.client = client
            // The endpoint only: the configuration's credentials are never logged.
            logger.info("chat memory in Redis", metadata: ["redis": "\(redis.topology == .standalone ? "\(redis.endpoint)" : "\(redis.topology)")", "db": "\(redis.database)",
                                                      "replicas": "\(replication?.replicas ?? 0)"])
        } else {
            memory = try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration, logger: logger)
            client = nil
        }
    }

    /// Closes the Redis connections (nothing to close for the embedded store).
    func shutdown() async {
        await client?.shutdown()
    }
}

/// Closes the store after the HTTP server stopped. The application's service group shuts its
/// services down in reverse order, so this one ends after the server answered its last request.
struct StoreShutdownService: Service {
    let backend: ChatStoreBackend
    let logger: Logger

    func run() async throws {
        // Throws CancellationError when the group is cancelled (the server failed): close anyway.
        try? await gracefulShutdown()
        await backend.shutdown()
        logger.info("chat memory closed")
    }
}
