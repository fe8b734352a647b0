import Foundation
@testable import ChatMemoryRedis
import Testing

/// The command timeout bounds the whole call; blocking commands on a dedicated connection have
/// their own; shutdown ends promptly with a read in flight; threads start with their connection.
/// Every step waits for the previous one to have happened; the time limits only guard against hangs.
@Suite(.timeLimit(.minutes(2))) struct TimeoutAndShutdownTests {
    @Test func aCallerWaitingForASlotTimesOutWhileTheSlotIsStillHeld() async throws {
        let key = TestServer.key()
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1; $0.commandTimeout = .milliseconds(200) }) { client in
            let pool = try client.pool.get()
            let (gate, open) = AsyncStream<Void>.makeStream()
            let holder = Task { try await pool.holdingSlot { for await _ in gate {} } }
            try await waitUntil { pool.slotsInUse == 1 }
            let error = await expectRedisError(.timeout) { try await client.send("INCR", key) }
            #expect(error?.message.contains("nothing was sent") == true, "\(String(describing: error))")
            // Timed out while the only slot was still held: the wait itself was bounded.
            #expect(pool.slotsInUse == 1)
            #expect(pool.waitingCallers == 0)
            open.finish()
            try await holder.value
            #expect(try await sendUnhurried(client, "GET", key) == .null)
        }
    }

    @Test func aQueuedRequestTimesOutWhileTheOneAheadIsStillBeingRead() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = .milliseconds(300)
            try await withClient(configuration: configuration) { client in
                let pool = try client.pool.get()
                #expect(try await sendUnhurried(client, "PING").string == "PONG")
                server.suspend()
                // A request with a later deadline than the client's timeout, written and unanswered.
                let ahead = Task {
                    try await pool.execute([RedisCommand("PING")], deadline: .now + .seconds(100)).replies
                }
                try await waitUntil { pool.slotsInUse == 1 && pool.queuedRequests == 0 }
                let error = await expectRedisError(.timeout) { try await client.send("INCR", "counter") }
                // It reached the queue in time and waited there: a connection that could not send it.
                #expect(error?.message.contains("never sent; it reached the client's queue with") == true, "\(String(describing: error))")
                #expect(error?.mayHaveRun == false)
                #expect(pool.queuedRequests == 0)
                server.resume()
                #expect(try await ahead.value.first?.get().string == "PONG")
                // The INCR was withdrawn before it was written.
                #expect(try await sendUnhurried(client, "GET", "counter") == .null)
            }
        }
    }

    /// A call whose time ran out before it reached the client (its task waited to run) fails
    /// unsent, and says it arrived late rather than blaming the connection.
    @Test func aCallThatReachesTheClientAfterItsDeadlineSaysSoAndSendsNothing() async throws {
        let key = TestServer.key()
        try await withClient({ $0.pool.size = 1 }) { client in
            let pool = try client.pool.get()
            #expect(try await sendUnhurried(client, "PING").string == "PONG")
            let late = await expectRedisError(.timeout) {
                _ = try await pool.execute([RedisCommand("INCR", key)], deadline: .now - .milliseconds(1))
            }
            #expect(late?.message.contains("never sent; it reached the client's queue after its deadline had passed") == true,
                    "\(String(describing: late))")
            #expect(late?.mayHaveRun == false)
            #expect(try await sendUnhurried(client, "GET", key) == .null)
        }
    }

    @Test func shutdownEndsPromptlyWithAReadInFlightAndNoTimeout() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = nil
            let client = RedisClient(configuration: configuration)
            let pool = try client.pool.get()
            #expect(try await client.send("PING").string == "PONG")
            // A dedicated connection blocked for ever on the server...
            let blocked = Task { try await client.withDedicatedConnection { try await $0.send("BLPOP", "nothing", 0) } }
            try await waitUntil { try await server.blockedClients() == 1 }
            // ...a read in flight to a stopped server, and a request queued behind it.
            server.suspend()
            let inFlight = Task { try await client.send("PING") }
            // Read by the I/O thread: the next request then stays queued (see withStalledSlot).
            try await waitUntil { pool.slotsInUse == 1 && pool.queuedRequests == 0 && pool.connections[0].isReading }
            let queued = Task { try await client.send("INCR", "counter") }
            try await waitUntil { pool.queuedRequests == 1 }
            await client.shutdown()
            await expectRedisError(.shutdown) { _ = try await inFlight.value }
            await expectRedisError(.shutdown) { _ = try await queued.value }
            await expectRedisError(.shutdown) { _ = try await blocked.value }
            server.resume()
            try await withClient(configuration: server.configuration()) { checker async throws in
                #expect(try await checker.send("GET", "counter") == .null)
            }
        }
    }

    @Test func aPoolOf1024UsedOnceStartsOneThread() async throws {
        try await withClient({ $0.pool.size = 1024 }) { client in
            let pool = try client.pool.get()
            #expect(pool.startedThreads == 0)
            #expect(try await client.send("PING").string == "PONG")
            #expect(pool.startedThreads == 1)
        }
    }

    @Test func tcpConnectionsUseKeepAlive() async throws {
        try await withClient({ $0.pool.size = 1 }) { client in
            #expect(try await client.send("PING").string == "PONG")
            let socket = try #require(try client.pool.get().connectionsForTesting[0].interrupter.socket)
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(socket, SOL_SOCKET, SO_KEEPALIVE, &value, &length) == 0)
            #expect(value == 1)
        }
    }

    @Test func aBlockingCommandOnADedicatedConnectionHasItsOwnTimeout() async throws {
        let key = TestServer.key()
        try await withClient({ $0.commandTimeout = .seconds(2) }) { client in
            // Its own block time (3 s) plus the command timeout: the server's own "nothing" comes
            // back. (2 s covers opening the connection and the round trip on a loaded machine; the
            // exact sums are checked without a server in `blockingTimeoutsAddTheBlockTime`.)
            let empty = try await client.withDedicatedConnection { try await $0.send("BLPOP", key, 3) }
            #expect(empty == .null)
            // A blocking timeout shorter than the block time: the client gives up first.
            await expectRedisError(.timeout) {
                _ = try await client.withDedicatedConnection(blockingCommandTimeout: .milliseconds(50)) { try await $0.send("BLPOP", key, 30) }
            }
            // The largest timeouts do not trap.
            let huge = try await client.withDedicatedConnection(blockingCommandTimeout: .seconds(Int64.max)) { try await $0.send("BLPOP", key, 0.01) }
            #expect(huge == .null)
            for invalid: Duration in [.zero, .seconds(-1)] {
                await expectRedisError(.invalidConfiguration) {
                    _ = try await client.withDedicatedConnection(blockingCommandTimeout: invalid) { try await $0.send("PING") }
                }
            }
        }
    }

    @Test func blockingTimeoutsAddTheBlockTime() {
        func timeout(_ words: [String], command: Duration? = .milliseconds(100), blocking: Duration? = nil) -> Duration? {
            RedisDedicatedConnection.timeout(for: [RedisCommand(arguments: words.map { Array($0.utf8) })], commandTimeout: command, blockingCommandTimeout: blocking)
        }
        #expect(timeout(["GET", "k"]) == .milliseconds(100))
        #expect(timeout(["GET", "k"], command: nil) == nil)
        #expect(timeout(["BLPOP", "k", "1"]) == .milliseconds(1100))
        #expect(timeout(["BLPOP", "k", "1"], blocking: .milliseconds(50)) == .milliseconds(50))
        #expect(timeout(["BLPOP", "k", "0"]) == nil, "blocks forever")
        #expect(timeout(["BLPOP", "k", "1"], command: nil) == nil)
        #expect(timeout(["BLPOP", "k", "2147483.6"]) == RedisConfiguration.maximumTimeout, "capped")
        let pipeline = [RedisCommand("GET", "k"), RedisCommand("WAIT", "1", "250")]
        #expect(RedisDedicatedConnection.timeout(for: pipeline, commandTimeout: .seconds(1), blockingCommandTimeout: nil) == .milliseconds(1250))
    }

    @Test func blockTimesAreReadFromTheCommand() {
        func time(_ words: String...) -> Duration? {
            SharedConnectionContract.blockTime(of: words.map { Array($0.utf8) })
        }
        #expect(time("BLPOP", "a", "b", "1.5") == .milliseconds(1500))
        #expect(time("blmove", "a", "b", "LEFT", "RIGHT", "2") == .seconds(2))
        #expect(time("BLMPOP", "3", "1", "k", "LEFT") == .seconds(3))
        #expect(time("WAIT", "1", "250") == .milliseconds(250))
        #expect(time("XREAD", "COUNT", "2", "block", "40", "STREAMS", "k", "$") == .milliseconds(40))
        #expect(time("BLPOP", "k", "0") == nil)
        #expect(time("BLPOP", "k", "-1") == nil)
        #expect(time("BLPOP", "k", "nan") == nil)
        #expect(time("BLPOP", "k", "inf") == nil)
        #expect(time("BLPOP", "k", "1e300") == nil)
        #expect(time("XREAD", "BLOCK") == nil)
        #expect(time() == nil)
    }

    @Test func reconnectWaitsAreJittered() {
        let backoff = Duration.milliseconds(800)
        let waits = (0..<200).map { _ in ConnectionLink.jittered(backoff) }
        #expect(waits.allSatisfy { $0 >= backoff / 2 && $0 <= backoff })
        #expect(Set(waits).count > 1)
        #expect(ConnectionLink.jittered(.zero) == .zero)
        #expect(ConnectionLink.jittered(.seconds(Int64.max)) <= .seconds(Int64.max))
    }
}

extension PrivateRedisServer {
    /// How many clients are blocked on this server (INFO clients).
    func blockedClients() async throws -> Int? {
        try await withClient(configuration: configuration()) { client in
            let info = try await client.send("INFO", "clients").string ?? ""
            return info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
                .flatMap { Int($0.dropFirst("blocked_clients:".count)) }
        }
    }
}
