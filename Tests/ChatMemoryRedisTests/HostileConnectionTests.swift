import Foundation
@testable import ChatMemoryRedis
import Testing

/// A hostile user's view of the connection: lone calls (answered in place) against stopped,
/// killed, restarted servers and killed connections; payloads around the in-place size limit;
/// bursts that switch between the in-place path and the I/O thread; cancellation and shutdown.
/// Each wait is bounded by its own hang guard (`outcome(within:)`); the suite's limit is one more,
/// far above its time under the thread sanitizer (130 to 145 s for the longest test, 200 s on a
/// machine busy with builds).
@Suite(.timeLimit(.minutes(10))) struct HostileConnectionTests {
    /// A lone caller whose task is cancelled hands its written request over to the I/O thread;
    /// the connection must keep serving later calls (it must not stay claimed by a caller gone).
    @Test(arguments: [1, 4]) func aCancelledLoneCallOnASlowServerLeavesTheConnectionUsable(poolSize: Int) async throws {
        try await withPrivateServer { (server) async throws in
            var configuration = server.configuration()
            configuration.pool.size = poolSize
            configuration.commandTimeout = nil
            try await withClient(configuration: configuration) { (client) async throws in
                #expect(try await client.send("PING").string == "PONG")
                // Longer than the pool's turn window after the PING's round trip in place: another
                // task calling sooner is taken for a concurrent caller and queued instead, and a
                // cancelled task's queued call is refused before sending (run alone, it always was).
                try await Task.sleep(for: .milliseconds(5))
                server.suspend()
                // Cancelled before it calls: the pool hands it a slot, the request is written in
                // place and handed over; written, it runs to completion once the server goes on.
                let call = Task {
                    await outcome(within: .seconds(20)) {
                        withUnsafeCurrentTask { $0?.cancel() }
                        return try await client.send("INCR", "counter").int
                    }
                }
                let pool = try client.pool.get()
                try await waitUntil { pool.connections.contains { $0.requestsInFlight == 1 } }
                server.resume()
                let cancelled = await call.value
                #expect(cancelled != nil, "the cancelled call hung")
                let next = await outcome(within: .seconds(20)) { try await client.send("GET", "counter").string }
                guard case .success(let value)? = next else {
                    Issue.record("the call after a cancelled lone call did not complete: \(String(describing: next))")
                    return
                }
                #expect(value == "1")
            }
        }
    }

    /// The same, with a command timeout: the next call must not time out unsent in the queue.
    @Test func aCancelledLoneCallDoesNotStarveTheQueueUntilTimeout() async throws {
        try await withPrivateServer { (server) async throws in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.commandTimeout = .seconds(2)
            try await withClient(configuration: configuration) { (client) async throws in
                #expect(try await client.send("PING").string == "PONG")
                server.suspend()
                _ = await outcome(within: .seconds(20)) {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await client.send("PING").string
                }
                server.resume()
                let next = await outcome(within: .seconds(20)) { try await client.send("ECHO", "after").string }
                #expect({ if case .success("after")? = next { true } else { false } }(), "got \(String(describing: next))")
            }
        }
    }

    /// SIGSTOP, then SIGKILL, under a lone call: it fails (it may have run), and once a server
    /// is back on the same port the next call succeeds.
    @Test func aLoneCallOnAStoppedThenKilledServerFailsAndTheNextReconnects() async throws {
        let server = try await PrivateRedisServer.start()
        let port = server.port
        var configuration = server.configuration()
        configuration.pool.size = 1
        configuration.pool.initialBackoff = .zero
        configuration.pool.maxBackoff = .zero
        try await withClient(configuration: configuration) { (client) async throws in
            #expect(try await client.send("PING").string == "PONG")
            server.suspend()
            let call = Task { try await client.send("INCR", "counter") }
            try await waitUntil { try client.pool.get().connections[0].requestsInFlight == 1 }
            await server.stop()
            let result = await outcome(within: .seconds(20)) { try await call.value }
            switch result {
            case nil: Issue.record("the call on a killed server hung")
            case .success(let value)?: Issue.record("a killed server answered \(value)")
            case .failure(let error)?:
                let redisError = error as? RedisError
                #expect(redisError?.mayHaveRun == true, "got \(error)")
            }
            let restarted = try await PrivateRedisServer.start(port: port)
            defer { Task { await restarted.stop() } }
            let next = await outcome(within: .seconds(20)) { try await client.send("INCR", "counter").int }
            #expect({ if case .success(1)? = next { true } else { false } }(), "got \(String(describing: next))")
            await restarted.stop()
        }
    }

    /// A server restarted on the same port between sequential calls: every call succeeds.
    @Test func aServerRestartedBetweenSequentialCallsIsReconnectedTransparently() async throws {
        let first = try await PrivateRedisServer.start()
        let port = first.port
        var configuration = first.configuration()
        configuration.pool.size = 1
        try await withClient(configuration: configuration) { (client) async throws in
            #expect(try await client.send("SET", "k", "v1").string == "OK")
            await first.stop()
            let second = try await PrivateRedisServer.start(port: port)
            let after = await outcome(within: .seconds(20)) { try await client.send("GET", "k") }
            switch after {
            case .success(let value)?: #expect(value == .null)
            default: Issue.record("the first call after a restart failed: \(String(describing: after))")
            }
            #expect(try await client.send("SET", "k", "v2").string == "OK")
            #expect(try await client.send("GET", "k").string == "v2")
            await second.stop()
        }
    }

    /// CLIENT KILL of the pooled connection between calls: the next call reconnects, and no
    /// acknowledged INCR is lost or counted twice.
    @Test func aKilledConnectionBetweenCallsIsReconnectedTransparently() async throws {
        try await withPrivateServer { (server) async throws in
            var configuration = server.configuration()
            configuration.pool.size = 1
            configuration.pool.initialBackoff = .zero
            configuration.pool.maxBackoff = .zero
            var killerConfiguration = configuration
            killerConfiguration.clientName = "killer"
            try await withClient(configuration: killerConfiguration) { (killer) async throws in
                try await withClient(configuration: configuration) { (client) async throws in
                    var acknowledged = 0
                    var failures: [String] = []
                    for _ in 0..<100 {
                        do {
                            _ = try await client.send("INCR", "counter")
                            acknowledged += 1
                        } catch {
                            failures.append("\(error)")
                        }
                        _ = try await killer.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
                    }
                    #expect(failures.isEmpty, "calls after CLIENT KILL failed: \(failures.prefix(3))")
                    #expect(try await killer.send("GET", "counter").int == acknowledged)
                }
            }
        }
    }

    /// Values sized around the in-place limit (the whole request, not just the value), empty and
    /// binary arguments, and a 16 MiB value come back from GET byte for byte.
    @Test func payloadsAroundTheInPlaceLimitRoundTrip() async throws {
        try await withClient({ $0.pool.size = 1 }) { (client) async throws in
            let key = TestServer.key()
            // SET's request: *3, $3 SET, $<key>, $<n> value: find n for requests of 64 KiB - 1 ... + 1.
            let overhead = RESPEncoding.encode([RedisCommand("SET", key, [UInt8](repeating: 0, count: 100_000))]).count - 100_000
            var sizes = [0, 1, 65_535, 65_536, 65_537, 16 << 20]
            for limit in [RedisConnection.inPlaceLimit - 1, RedisConnection.inPlaceLimit, RedisConnection.inPlaceLimit + 1] {
                sizes.append(limit - overhead)
            }
            for size in sizes {
                let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
                #expect(try await client.send("SET", key, value).string == "OK")
                let back = try await client.send("GET", key).bytes
                #expect(back == value, "size \(size): got \(back?.count ?? -1) bytes")
                #expect(try await client.send("STRLEN", key).int == size)
            }
            let nasty: [[UInt8]] = [[], [0], [0, 0, 0], Array("\r\n".utf8), Array("$5\r\nhello\r\n".utf8), Array("*1\r\n$4\r\nPING\r\n".utf8),
                                    [0xFF, 0xFE, 0xC0, 0x80, 0xED, 0xA0, 0x80], [13], [10], Array("\r\n\r\n\0\r".utf8)]
            for value in nasty {
                #expect(try await client.send("SET", key, value).string == "OK")
                #expect(try await client.send("GET", key).bytes == value)
                #expect(try await client.send("ECHO", value).bytes == value)
            }
            // A key that is itself binary, empty, or full of RESP framing.
            for binaryKey: [UInt8] in [[], [0], Array("\r\n*2\r\n".utf8), [0xFF]] {
                let fullKey = Array(key.utf8) + binaryKey
                #expect(try await client.send("SET", fullKey, binaryKey).string == "OK")
                #expect(try await client.send("GET", fullKey).bytes == binaryKey)
                try await client.send("DEL", fullKey)
            }
            try await client.send("DEL", key)
        }
    }

    /// 10,000 arguments in one command (a request far above the in-place limit), and many small
    /// ones just under it.
    @Test func tenThousandArgumentsRoundTrip() async throws {
        try await withClient({ $0.pool.size = 1 }) { (client) async throws in
            let key = TestServer.key()
            let items: [[UInt8]] = (0..<10_000).map { Array("item-\($0)\r\n\0".utf8) }
            let arguments: [any RedisArgument] = [key] + items
            #expect(try await client.send(RedisCommand("RPUSH", arguments)).int == 10_000)
            let back = try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.bytes)
            #expect(back == items)
            let empties: [any RedisArgument] = [key + ":e"] + Array(repeating: [UInt8](), count: 10_000)
            #expect(try await client.send(RedisCommand("RPUSH", empties)).int == 10_000)
            #expect(try await client.send("LLEN", key + ":e").int == 10_000)
            try await client.send("DEL", key, key + ":e")
        }
    }

    /// Alternating lone calls (in place) and bursts of 50 tasks (through the I/O thread): every
    /// reply is its own caller's.
    @Test(arguments: [(1, 128), (3, 128), (1, 1), (2, 1)])
    func alternatingLoneCallsAndBurstsGetTheirOwnReplies(poolSize: Int, maxPipelined: Int) async throws {
        try await withClient({ $0.pool.size = poolSize; $0.pool.maxPipelinedRequests = maxPipelined }) { (client) async throws in
            let prefix = TestServer.key()
            for round in 0..<20 {
                for phase in [1, 50, 1, 2, 1] {
                    let wrong = try await withThrowingTaskGroup(of: String?.self) { group in
                        for task in 0..<phase {
                            group.addTask {
                                let tag = "\(prefix):\(round):\(phase):\(task):\(UUID().uuidString)"
                                let echoed = try await client.send("ECHO", tag).string
                                let count = try await client.send("INCR", tag).int
                                let pipelined = try await client.pipeline([RedisCommand("ECHO", tag + "a"), RedisCommand("INCR", tag), RedisCommand("ECHO", tag + "b")])
                                try await client.send("DEL", tag)
                                let ok = echoed == tag && count == 1 && (try? pipelined[0].get().string) == tag + "a"
                                    && (try? pipelined[1].get().int) == 2 && (try? pipelined[2].get().string) == tag + "b"
                                return ok ? nil : "\(tag): echo \(echoed ?? "nil"), incr \(count ?? -1), pipeline \(pipelined)"
                            }
                        }
                        var wrong: [String] = []
                        for try await result in group { if let result { wrong.append(result) } }
                        return wrong
                    }
                    #expect(wrong.isEmpty, "replies delivered to the wrong caller: \(wrong.prefix(3))")
                }
            }
        }
    }

    /// Tasks cancelled at random points of their calls, lone and concurrent: no hang, and the
    /// calls that return get their own replies.
    @Test func randomlyCancelledCallsNeverCrossReplies() async throws {
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1 }) { (client) async throws in
            let prefix = TestServer.key()
            for round in 0..<200 {
                let width = round % 3 == 0 ? 1 : 8
                var tasks: [Task<String?, Never>] = []
                for task in 0..<width {
                    tasks.append(Task {
                        let tag = "\(prefix):\(round):\(task)"
                        for _ in 0..<3 {
                            guard let echoed = try? await client.send("ECHO", tag).string else { continue }
                            if echoed != tag { return "\(tag) got \(echoed)" }
                        }
                        return nil
                    })
                }
                for (index, task) in tasks.enumerated() where (index + round) % 2 == 0 {
                    if round % 4 == 1 { await Task.yield() }
                    task.cancel()
                }
                for task in tasks {
                    let result = await outcome(within: .seconds(30)) { await task.value }
                    guard case .success(let wrong)? = result else {
                        Issue.record("round \(round): a task hung")
                        return
                    }
                    #expect(wrong == nil, "round \(round): \(wrong ?? "")")
                }
                let check = await outcome(within: .seconds(30)) { try await client.send("ECHO", "round-\(round)").string }
                guard case .success("round-\(round)")? = check else {
                    Issue.record("round \(round): the client no longer answers: \(String(describing: check))")
                    return
                }
            }
        }
    }

    /// shutdown() racing a lone call: the call either succeeds or fails with `.shutdown`, and
    /// shutdown never hangs.
    @Test func shutdownDuringALoneCall() async throws {
        var codes: [String: Int] = [:]
        var wrong: [String] = []
        for attempt in 0..<60 {
            let client = try TestServer.client { $0.pool.size = 1 }
            #expect(try await client.send("PING").string == "PONG")
            let call = Task { try await client.send("ECHO", "x\(attempt)") }
            if attempt % 2 == 0 { await Task.yield() }
            let shutdown = await outcome(within: .seconds(20)) { await client.shutdown() }
            #expect(shutdown != nil, "shutdown hung")
            let result = await outcome(within: .seconds(20)) { try await call.value }
            switch result {
            case nil: Issue.record("the call hung after shutdown")
            case .success(let value)?: #expect(value.string == "x\(attempt)"); codes["ok", default: 0] += 1
            case .failure(let error)?:
                let code = (error as? RedisError).map { "\($0.code)" } ?? "\(type(of: error))"
                codes[code, default: 0] += 1
                if (error as? RedisError)?.code != .shutdown { wrong.append("\(error)") }
            }
        }
        print("shutdownDuringALoneCall outcomes: \(codes)")
        #expect(wrong.isEmpty, "calls interrupted by shutdown failed otherwise: \(wrong.prefix(2))")
    }

    /// shutdown() racing a lone call on a stopped server (the call waits in place, then on the
    /// I/O thread): it fails with `.shutdown`, marked as possibly run (it was written).
    @Test func shutdownDuringALoneCallOnAStoppedServer() async throws {
        try await withPrivateServer { (server) async throws in
            var codes: [String: Int] = [:]
            var wrong: [String] = []
            for attempt in 0..<100 {
                var configuration = server.configuration()
                configuration.pool.size = 1
                let client = RedisClient(configuration: configuration)
                #expect(try await client.send("PING").string == "PONG")
                server.suspend()
                let pool = try client.pool.get()
                let call = Task { try await client.send("INCR", "counter-\(attempt)") }
                // The call holds its slot: it is writing or waiting in place (for 250 µs), or on the I/O thread.
                while pool.slotsInUse == 0 { await Task.yield() }
                let shutdown = await outcome(within: .seconds(20)) { await client.shutdown() }
                #expect(shutdown != nil, "shutdown hung")
                let result = await outcome(within: .seconds(20)) { try await call.value }
                server.resume()
                switch result {
                case nil: Issue.record("the call hung after shutdown")
                case .success?: codes["ok", default: 0] += 1
                case .failure(let error)?:
                    let redisError = error as? RedisError
                    codes["\(redisError.map { "\($0.code)/\($0.mayHaveRun)" } ?? "\(type(of: error))")", default: 0] += 1
                    if redisError?.code != .shutdown { wrong.append("attempt \(attempt): \(error)") }
                    if redisError?.mayHaveRun == false {
                        // Reported as never sent: the server, going on, must not have run it.
                        try await withClient(configuration: server.configuration()) { (checker) async throws in
                            #expect(try await checker.send("GET", "counter-\(attempt)") == .null, "attempt \(attempt): \(error) but the INCR ran")
                        }
                    }
                }
            }
            print("shutdownDuringALoneCallOnAStoppedServer outcomes: \(codes)")
            #expect(wrong.isEmpty, "\(wrong.count) of 100 calls interrupted by shutdown failed otherwise, e.g. \(wrong.prefix(2))")
        }
    }

    /// Lone pipelines whose first reply is large (read over several polls, then handed over):
    /// each reply reaches its own command.
    @Test func largeRepliesReadPartlyInPlaceStayInOrder() async throws {
        try await withClient({ $0.pool.size = 1 }) { (client) async throws in
            let key = TestServer.key()
            let big = [UInt8](repeating: 0x61, count: 4 << 20)
            try await client.send("SET", key, big)
            for round in 0..<20 {
                let replies = try await client.pipeline([RedisCommand("ECHO", "a\(round)"), RedisCommand("GET", key),
                                                         RedisCommand("ECHO", "b\(round)"), RedisCommand("GET", key), RedisCommand("ECHO", "c\(round)")])
                #expect(try replies[0].get().string == "a\(round)")
                #expect(try replies[1].get().bytes?.count == big.count)
                #expect(try replies[2].get().string == "b\(round)")
                #expect(try replies[3].get().bytes?.count == big.count)
                #expect(try replies[4].get().string == "c\(round)")
                #expect(try await client.send("ECHO", "d\(round)").string == "d\(round)")
            }
            try await client.send("DEL", key)
        }
    }

    /// A slow command (longer than the in-place wait) from a lone caller, then many quick ones:
    /// the handed-over reply is delivered to its caller, not to the next.
    @Test func aHandedOverReplyIsNotDeliveredToTheNextCaller() async throws {
        try await withPrivateServer(arguments: ["--enable-debug-command", "yes"]) { (server) async throws in
            var configuration = server.configuration()
            configuration.pool.size = 1
            try await withClient(configuration: configuration) { (client) async throws in
                for round in 0..<50 {
                    let slow = try await client.pipeline([RedisCommand("DEBUG", "SLEEP", "0.002"), RedisCommand("ECHO", "slow-\(round)")])
                    #expect((try? slow[1].get().string) == "slow-\(round)")
                    #expect(try await client.send("ECHO", "quick-\(round)").string == "quick-\(round)")
                }
            }
        }
    }
}

/// Runs `body` in a task of its own and waits at most `limit` for it (only a guard against a
/// hang: a body that never ends is left running); `nil` when it did not end in time.
func outcome<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async -> Result<T, any Error>? {
    let box = Locked<Result<T, any Error>?>(nil)
    let task = Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        box.withLock { $0 = result }
    }
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if let result = box.withLock({ $0 }) { return result }
        try? await Task.sleep(for: .milliseconds(5))
    }
    task.cancel()
    return box.withLock { $0 }
}
