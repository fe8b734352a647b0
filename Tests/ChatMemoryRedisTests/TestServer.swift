import Foundation
import Logging
@testable import ChatMemoryRedis
import Testing

/// The test server started by Scripts/test.sh, named by REDIS_URL. A missing server is a failure.
enum TestServer {
    static func configuration() throws -> RedisConfiguration {
        guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
            throw TestServerMissing()
        }
        var configuration = try RedisConfiguration(url: url)
        // Generous: suites run in parallel on 2 shared cores (and 10x slower under the thread
        // sanitizer); these bounds only turn a hang into a failure.
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(60)
        return configuration
    }

    /// A fresh client; the caller shuts it down.
    static func client(_ adjust: (inout RedisConfiguration) -> Void = { _ in }, logger: Logger = Logger(label: "test")) throws -> RedisClient {
        var configuration = try configuration()
        adjust(&configuration)
        return RedisClient(configuration: configuration, logger: logger)
    }

    /// A key nobody else uses.
    static func key(_ label: String = #function) -> String {
        "test:\(label.prefix { $0 != "(" }):\(UUID().uuidString)"
    }
}

struct TestServerMissing: Error, CustomStringConvertible {
    var description: String { "REDIS_URL is not set: run the tests with Scripts/test.sh, which starts a redis-server" }
}

/// Runs `body` with a client of the test server and always shuts the client down.
@discardableResult
func withClient<R>(_ adjust: (inout RedisConfiguration) -> Void = { _ in }, logger: Logger = Logger(label: "test"),
                   observability: RedisClient.Observability = .init(), _ body: (RedisClient) async throws -> R) async throws -> R {
    var configuration = try TestServer.configuration()
    adjust(&configuration)
    return try await withClient(configuration: configuration, logger: logger, observability: observability, body)
}

/// Runs `body` with a client for `configuration` and always shuts the client down.
@discardableResult
func withClient<R>(configuration: RedisConfiguration, logger: Logger = Logger(label: "test"),
                   observability: RedisClient.Observability = .init(), _ body: (RedisClient) async throws -> R) async throws -> R {
    let client = RedisClient(configuration: configuration, logger: logger, observability: observability)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Expects `body` to throw a RedisError with the given code and returns it.
@discardableResult
func expectRedisError(_ code: RedisError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () async throws -> Void) async -> RedisError? {
    do {
        try await body()
        Issue.record("expected \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as RedisError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected RedisError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Sends a command that is not what a test checks with a 60-s deadline of its own, whatever the
/// client's (deliberately short) `commandTimeout`: on a loaded machine a round trip can take
/// longer than a timeout under test, and only the call under test may time out.
@discardableResult
func sendUnhurried(_ client: RedisClient, _ name: String, _ arguments: any RedisArgument...) async throws -> RedisValue {
    try await client.pool.get().execute([RedisCommand(name, arguments)], deadline: .now + .seconds(60)).replies[0].get()
}
