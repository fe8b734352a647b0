import Foundation
import Synchronization
@testable import ChatMemoryRedis
import Testing

/// `RedisError.mayHaveRun` separates failures after which the command may have run from those
/// where it certainly did not (a retry is safe).
@Suite(.timeLimit(.minutes(2))) struct RetrySafetyTests {
    @Test func aRefusedConnectionCertainlyDidNotRun() async throws {
        let refusing = try RefusingPort()
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: refusing.port))
        let error = await expectRedisError(.connectionRefused) { try await client.send("INCR", "k") }
        #expect(error?.mayHaveRun == false)
        // Within the backoff the same error comes back at once: still not run.
        let again = await expectRedisError(.connectionRefused) { try await client.send("INCR", "k") }
        #expect(again?.mayHaveRun == false)
        await client.shutdown()
        refusing.release()
    }

    @Test func aFailedHandshakeCertainlyDidNotRun() async throws {
        let client = try TestServer.client { $0.credentials = .init(username: "nobody-\(UUID().uuidString)", password: "wrong") }
        let error = await expectRedisError(.server(.wrongPassword)) { try await client.send("INCR", "k") }
        #expect(error?.mayHaveRun == false)
        await client.shutdown()
    }

    @Test func refusedBeforeSendingCertainlyDidNotRun() async throws {
        try await withClient { client in
            let contract = await expectRedisError(.requiresDedicatedConnection) { try await client.send("SELECT", 1) }
            #expect(contract?.mayHaveRun == false)
            let empty = await expectRedisError(.invalidCommand) { try await client.send(RedisCommand(arguments: [])) }
            #expect(empty?.mayHaveRun == false)
        }
        let client = try TestServer.client()
        await client.shutdown()
        let shutDown = await expectRedisError(.shutdown) { try await client.send("INCR", "k") }
        #expect(shutDown?.mayHaveRun == false)
    }

    @Test func aServerErrorReplyReachedTheServer() async throws {
        let key = TestServer.key()
        try await withClient { client in
            try await client.send("RPUSH", key, "x")
            let error = await expectRedisError(.server(.wrongType)) { try await client.send("INCR", key) }
            #expect(error?.mayHaveRun == true)
            try await client.send("DEL", key)
        }
    }

    @Test func aTimeoutAfterWritingToAStoppedServerMayHaveRun() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = .milliseconds(200)
            try await withClient(configuration: configuration) { client in
                #expect(try await sendUnhurried(client, "PING").string == "PONG")
                server.suspend()
                let error = await expectRedisError(.timeout) { try await client.send("INCR", "counter") }
                #expect(error?.mayHaveRun == true)
                server.resume()
                // It did run, once the server went on.
                try await waitUntil { try await sendUnhurried(client, "GET", "counter").int == 1 }
            }
        }
    }

    /// A lone caller waits for its reply in place only briefly, also after a run of calls in
    /// place, whose waits share the connection's timer (one armed for an earlier call wakes the
    /// wait early, and the wait arms it again for the rest of its time): a slower reply is handed
    /// to the I/O thread, which delivers it. Here a script keeps the server busy for a second.
    @Test func aLoneCallWithASlowReplyIsHandedToTheIOThread() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = nil
            try await withClient(configuration: configuration) { client in
                let pool = try client.pool.get()
                let pingsDone = Atomic<Bool>(false)
                // One task makes every call, so it stays the pool's lone caller.
                let calls = Task {
                    for _ in 0..<500 { _ = try await client.send("PING") }
                    pingsDone.store(true, ordering: .sequentiallyConsistent)
                    return try await client.send("EVAL", Self.busyScript, 0, 1_000_000)
                }
                try await waitUntil { pingsDone.load(ordering: .sequentiallyConsistent) && pool.connections[0].requestsInFlight == 1 }
                #expect(try await calls.value == .integer(1))
            }
        }
    }

    /// Keeps the server busy for ARGV[1] microseconds, then returns 1.
    static let busyScript = """
        local start = redis.call('TIME')
        local now
        repeat now = redis.call('TIME') until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) >= tonumber(ARGV[1])
        return 1
        """

    @Test func aServerKilledBeforeReplyingMayHaveRun() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = nil
            try await withClient(configuration: configuration) { client in
                let pool = try client.pool.get()
                #expect(try await client.send("PING").string == "PONG")
                server.suspend()
                let written = Task { try await client.send("INCR", "counter") }
                try await waitUntil { pool.slotsInUse == 1 && pool.queuedRequests == 0 }
                await server.stop()
                let error = await expectRedisError(.connectionClosed) { _ = try await written.value }
                #expect(error?.mayHaveRun == true)
                // The server is gone: the next call cannot connect, and certainly did not run.
                let refused = await expectRedisError(.connectionRefused) { try await client.send("INCR", "counter") }
                #expect(refused?.mayHaveRun == false)
            }
        }
    }

    @Test func shutdownSeparatesWrittenFromQueued() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = nil
            let client = RedisClient(configuration: configuration)
            let pool = try client.pool.get()
            #expect(try await client.send("PING").string == "PONG")
            server.suspend()
            let written = Task { try await client.send("INCR", "a") }
            // Read by the I/O thread: the next request then stays queued (see withStalledSlot).
            try await waitUntil { pool.slotsInUse == 1 && pool.queuedRequests == 0 && pool.connections[0].isReading }
            let queued = Task { try await client.send("INCR", "b") }
            try await waitUntil { pool.queuedRequests == 1 }
            await client.shutdown()
            let inFlight = await expectRedisError(.shutdown) { _ = try await written.value }
            #expect(inFlight?.mayHaveRun == true)
            let unsent = await expectRedisError(.shutdown) { _ = try await queued.value }
            #expect(unsent?.mayHaveRun == false)
            server.resume()
        }
    }

    @Test func timeoutsBeforeWritingCertainlyDidNotRun() async throws {
        // Waiting for a slot.
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1; $0.commandTimeout = .milliseconds(100) }) { client in
            let pool = try client.pool.get()
            let (gate, open) = AsyncStream<Void>.makeStream()
            let holder = Task { try await pool.holdingSlot { for await _ in gate {} } }
            try await waitUntil { pool.slotsInUse == 1 }
            let error = await expectRedisError(.timeout) { try await client.send("PING") }
            #expect(error?.mayHaveRun == false)
            open.finish()
            try await holder.value
        }
        // Queued on a connection behind a request still being read: see
        // TimeoutAndShutdownTests.aQueuedRequestTimesOutWhileTheOneAheadIsStillBeingRead.
    }
}
