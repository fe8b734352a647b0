import Foundation
import Logging
@testable import ChatMemoryRedis
import Testing
#if ServiceLifecycleSupport
import ServiceLifecycle
#endif

/// The client as a service of a ServiceGroup, and a client released without shutdown().
/// Every step waits for the previous one; the time limit only guards against hangs.
@Suite(.timeLimit(.minutes(2))) struct LifecycleTests {
    #if ServiceLifecycleSupport
    @Test func aServiceGroupShuttingDownGracefullyClosesTheClient() async throws {
        let client = try TestServer.client()
        let group = ServiceGroup(services: [client], gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        #expect(try await client.send("PING").string == "PONG")
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(try client.pool.get().isShutdown)
        await expectRedisError(.shutdown) { try await client.send("PING") }
    }

    @Test func aCancelledRunClosesTheClient() async throws {
        let client = try TestServer.client()
        let running = Task { try await client.run() }
        #expect(try await client.send("PING").string == "PONG")
        running.cancel()
        try await running.value
        #expect(try client.pool.get().isShutdown)
        await expectRedisError(.shutdown) { try await client.send("PING") }
    }
    #endif

    @Test func aClientReleasedWithoutShutdownSaysSoAndStopsItsThreads() async throws {
        let capture = LogCapture()
        let name = "released-\(UUID().uuidString.prefix(8))"
        try await useAndRelease(name: name, logger: capture.logger())
        try await waitUntil { capture.lines.contains { $0.hasPrefix("debug RedisClient released without shutdown()") } }
        let line = capture.lines.first { $0.contains("released without shutdown()") } ?? ""
        #expect(line.contains(#""redis.threads": 1"#), "\(line)")
        // Its connection is closed: the server no longer lists it.
        try await withClient { observer in
            try await waitUntil { try await observer.send("CLIENT", "LIST").string?.contains("name=\(name) ") == false }
        }
    }

    @Test func aClientShutDownOrNeverUsedIsReleasedSilently() async throws {
        let capture = LogCapture()
        do {
            let client = try TestServer.client(logger: capture.logger())
            #expect(try await client.send("PING").string == "PONG")
            await client.shutdown()
        }
        _ = try TestServer.client(logger: capture.logger())
        #expect(!capture.lines.contains { $0.contains("released without shutdown()") })
    }

    /// Opens a connection named `name` and drops the client without shutting it down.
    private func useAndRelease(name: String, logger: Logger) async throws {
        let client = try TestServer.client({ $0.clientName = name; $0.pool.size = 2 }, logger: logger)
        #expect(try await client.send("PING").string == "PONG")
        let list = try await withClient { observer in try await observer.send("CLIENT", "LIST").string ?? "" }
        #expect(list.contains("name=\(name) "))
    }
}
