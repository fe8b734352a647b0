import ArgumentParser
import ChatMemory
import Logging
import Redis

/// Which ``ChatMemoryStore`` a worker uses.
enum StoreKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// ``RedisChatMemory``: shared by every worker that points at the same Redis.
    case redis
    /// ``EmbeddedChatMemory``: this process only (for comparing the cost of sharing).
    case embedded
}

/// The store a worker keeps conversations in, and what must be closed when it stops.
struct ChatStoreBackend: Sendable {
    let memory: any ChatMemoryStore
    private let client: RedisClient?

    init(kind: StoreKind, worker: String, logger: Logger) throws {
        switch kind {
        case .embedded:
            memory = try EmbeddedChatMemory(logger: logger)
            client = nil
        case .redis:
            var configuration = try RedisConfiguration.fromEnvironment()
            configuration.clientName = "chat-server:\(worker)"
            // Fail a request quickly while Redis is away instead of holding the HTTP client.
            configuration.connectTimeout = .seconds(1)
            configuration.commandTimeout = .seconds(3)
            let client = RedisClient(configuration: configuration, logger: logger)
            memory = try RedisChatMemory(client: client, logger: logger)
            self.client = client
            logger.info("chat memory in Redis", metadata: ["redis": "\(configuration.endpoint)"])
        }
    }

    func shutdown() async {
        await client?.shutdown()
    }
}
