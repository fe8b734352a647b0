import ChatMemory
import ChatMemoryRedis
import Vapor

extension Application {
    private struct ChatMemoryKey: StorageKey {
        typealias Value = RedisChatMemoryHandle
    }

    /// The client and the memory over it, one per application.
    struct RedisChatMemoryHandle: Sendable {
        let client: RedisClient
        let memory: RedisChatMemory
    }

    /// The chat memory opened by ``useRedisChatMemory(redis:configuration:)``, for code that has
    /// only the application (a command, a scheduled job); `nil` before. The routes are handed it.
    var chatMemory: RedisChatMemory? { storage[ChatMemoryKey.self]?.memory }

    /// Creates the application's one Redis client (a bounded pool, connecting lazily) and the
    /// memory over it, keeps them in the application's storage, and registers
    /// ``RedisClientLifecycle``, which closes the client when the application shuts down.
    /// Call it once, at startup.
    func useRedisChatMemory(redis: RedisConfiguration, configuration: ChatMemoryConfiguration = .init()) async throws -> RedisChatMemory {
        guard storage[ChatMemoryKey.self] == nil else {
            throw ChatMemoryError.invalidConfiguration("the application's chat memory is already open")
        }
        let client = RedisClient(configuration: redis, logger: logger)
        let memory: RedisChatMemory
        do {
            memory = try RedisChatMemory(client: client, configuration: configuration, logger: logger)
        } catch {
            await client.shutdown()
            throw error
        }
        storage[ChatMemoryKey.self] = RedisChatMemoryHandle(client: client, memory: memory)
        lifecycle.use(RedisClientLifecycle(client: client))
        return memory
    }
}

/// Closes the application's Redis client when the application shuts down
/// (`app.asyncShutdown()`, which runs each handler once).
///
/// Vapor stops its HTTP server with the application's storage, which `asyncShutdown()` clears
/// only after the lifecycle handlers; so this handler stops the server first (a second stop does
/// nothing) and requests still in flight finish while Redis is open, instead of failing with
/// `.shutdown`.
struct RedisClientLifecycle: LifecycleHandler {
    let client: RedisClient

    func shutdownAsync(_ application: Application) async {
        await application.server.shutdown()
        application.logger.info("http server stopped")
        await client.shutdown()
        application.logger.info("redis client closed")
    }
}
