import ChatMemory
import Foundation
import Logging
import ChatMemoryRedis

/// What a command body gets: the client (for raw commands) and the chat memory over it.
struct CLIConnection {
    let client: RedisClient
    let memory: RedisChatMemory
    let configuration: ChatMemoryConfiguration
}

extension ConnectionOptions {
    /// Connects, runs `body`, and always shuts the client down. Errors are thrown on, for the
    /// entry point to report (``ChatMemoryCommand/main()``).
    func run(
        configure: (inout ChatMemoryConfiguration) -> Void = { _ in },
        _ body: (CLIConnection) async throws -> Void
    ) async throws {
        let redisConfiguration = try RedisSettings.configuration(url: url, passwordFile: passwordFile)
        var configuration = ChatMemoryConfiguration()
        configuration.keyPrefix = prefix
        if let encoding { configuration.tokenCounter = try encoding.counter() }
        configure(&configuration)
        let client = RedisClient(configuration: redisConfiguration, logger: cliLogger(label: "redis"))
        do {
            let memory = try RedisChatMemory(client: client, configuration: configuration, logger: cliLogger(label: "chat-memory"))
            try await body(CLIConnection(client: client, memory: memory, configuration: configuration))
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}

/// Library logs go to standard error, and only errors: standard output stays clean for data.
/// Skipped foreign entries are reported by the commands themselves.
private func cliLogger(label: String) -> Logger {
    var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = ProcessInfo.processInfo.environment["CHAT_MEMORY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}
