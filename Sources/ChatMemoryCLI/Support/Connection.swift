import ArgumentParser
import ChatMemory
import Foundation
import Logging
import Redis

/// What a command body gets: the client (for raw commands) and the chat memory over it.
struct CLIConnection {
    let client: RedisClient
    let memory: RedisChatMemory
    let configuration: ChatMemoryConfiguration
}

extension ConnectionOptions {
    /// Connects, runs `body`, and always shuts the client down. Any error is printed as one line
    /// (`chat-memory: error: ...`) on standard error and becomes an `ExitCode` (64, 65 or 1).
    func run(
        configure: (inout ChatMemoryConfiguration) -> Void = { _ in },
        _ body: (CLIConnection) async throws -> Void
    ) async throws {
        let client: RedisClient
        let connection: CLIConnection
        do {
            let redisConfiguration = try url.map { try RedisConfiguration(url: $0) } ?? RedisConfiguration.fromEnvironment()
            var configuration = ChatMemoryConfiguration()
            configuration.keyPrefix = prefix
            if let encoding { configuration.tokenCounter = try encoding.counter() }
            configure(&configuration)
            client = RedisClient(configuration: redisConfiguration, logger: cliLogger(label: "redis"))
            do {
                connection = CLIConnection(
                    client: client,
                    memory: try RedisChatMemory(client: client, configuration: configuration, logger: cliLogger(label: "chat-memory")),
                    configuration: configuration)
            } catch {
                await client.shutdown()
                throw error
            }
        } catch {
            throw report(error)
        }
        do {
            try await body(connection)
        } catch {
            await client.shutdown()
            throw report(error)
        }
        await client.shutdown()
    }
}

/// Prints the error's line on standard error and returns the exit code to throw.
func report(_ error: any Error) -> any Error {
    if error is ExitCode || error is CleanExit { return error }
    let failure = CLIError(error)
    printError("chat-memory: error: \(failure.message)\n")
    return failure.exitCode
}

/// Library logs go to standard error, and only errors: standard output stays clean for data.
/// Skipped foreign entries are reported by the commands themselves.
private func cliLogger(label: String) -> Logger {
    var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = ProcessInfo.processInfo.environment["CHAT_MEMORY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}

/// Writes text to standard error, unbuffered.
func printError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
