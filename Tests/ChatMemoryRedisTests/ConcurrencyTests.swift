import Foundation
import Synchronization
@testable import ChatMemoryRedis
import Testing

@Suite struct ConcurrencyTests {
    @Test(arguments: [1, 128])
    func twoHundredTasksShareFourConnections(maxPipelinedRequests: Int) async throws {
        // The timeout bounds each whole call, the wait for a slot included; 6,000 calls through
        // one-at-a-time slots while other suites run (10x slower under the thread sanitizer) may
        // wait long: a generous bound that only turns a hang into a failure.
        try await withClient({
            $0.pool.size = 4
            $0.pool.maxPipelinedRequests = maxPipelinedRequests
            $0.commandTimeout = .seconds(600)
        }) { client in
            let prefix = TestServer.key()
            let connections = try await withThrowingTaskGroup(of: Int?.self) { group in
                for task in 0..<200 {
                    group.addTask {
                        for round in 0..<10 {
                            let value = "task-\(task)-round-\(round)-" + String(repeating: "x", count: task)
                            #expect(try await client.send("SET", "\(prefix):\(task)", value) == .status("OK"))
                            #expect(try await client.send("GET", "\(prefix):\(task)").string == value)
                            let echoed = try await client.send("ECHO", value).string
                            #expect(echoed == value)
                        }
                        return try await client.send("CLIENT", "ID").int
                    }
                }
                return try await group.reduce(into: Set<Int?>()) { $0.insert($1) }
            }
            #expect(!connections.contains(nil))
            #expect(connections.count <= 4)
            try await client.send(RedisCommand("DEL", (0..<200).map { "\(prefix):\($0)" }))
        }
    }

    /// A caller alone in its pool makes its round trips in place, on its own thread, without
    /// suspending; once such a run has held the thread for a millisecond, the call that ends it
    /// yields, so another task waiting for that thread runs. Here both tasks share one thread:
    /// the other task runs only when the caller suspends.
    @Test func aLoneCallerInPlaceLetsTheOtherTasksOnItsThreadRun() async throws {
        try await withClient { client in
            #expect(try await client.send("PING") == .status("PONG"))
            let executor = OneThreadExecutor()
            defer { executor.stop() }
            let otherRuns = RunCounter()
            let (calls, runsDuringCalls) = try await withTaskExecutorPreference(executor) { () async throws -> (Int, Int) in
                let other = Task(executorPreference: executor) {
                    while !Task.isCancelled {
                        otherRuns.count.add(1, ordering: .relaxed)
                        await Task.yield()
                    }
                }
                // The first calls may still go through the I/O thread (which suspends), while it
                // finishes with the connection.
                for _ in 0..<20 { _ = try await client.send("PING") }
                let before = otherRuns.count.load(ordering: .relaxed)
                // Calls for 20 ms in all: more than a millisecond, however fast the machine.
                let clock = ContinuousClock()
                let start = clock.now
                var calls = 0
                repeat {
                    #expect(try await client.send("PING") == .status("PONG"))
                    calls += 1
                } while clock.now - start < .milliseconds(20)
                let during = otherRuns.count.load(ordering: .relaxed) - before
                other.cancel()
                await other.value
                return (calls, during)
            }
            #expect(runsDuringCalls > 0, "\(calls) calls never let the other task run")
        }
    }

    // The tests below hold a client's only slot with a PING to a private server that is stopped
    // (SIGSTOP), and watch the pool's queues: every step waits for the previous one to have
    // happened, never for a length of time. The server is let go on (SIGCONT) to answer.

    @Test func waitersAreServedInArrivalOrder() async throws {
        try await withStalledSlot(maxPipelinedRequests: 1) { client, server, blocker in
            let key = TestServer.key()
            var waiters: [Task<RedisValue, any Error>] = []
            for index in 0..<20 {
                waiters.append(Task { try await client.send("RPUSH", key, index) })
                // The next waiter arrives only once this one is queued.
                try await waitUntil { try client.pool.get().waitingCallers == index + 1 }
            }
            server.resume()
            _ = try await blocker.value
            for waiter in waiters { _ = try await waiter.value }
            let order = try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.int)
            #expect(order == Array(0..<20))
        }
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        try await withStalledSlot(maxPipelinedRequests: 1) { client, server, blocker in
            let waiter = Task { try await client.send("PING") }
            try await waitUntil { try client.pool.get().waitingCallers == 1 }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            // It left the queue while the slot was still held: the blocker has not been answered.
            #expect(try client.pool.get().waitingCallers == 0)
            #expect(try client.pool.get().slotsInUse == 1)
            server.resume()
            _ = try await blocker.value
            #expect(try await client.send("PING").string == "PONG")
        }
    }

    @Test func cancelledQueuedRequestIsWithdrawn() async throws {
        // Pipelined requests wait on the connection itself; a cancelled one is never sent.
        try await withStalledSlot(maxPipelinedRequests: 128) { client, server, blocker in
            let key = TestServer.key()
            let queued = Task { try await client.send("SET", key, "should not be written") }
            try await waitUntil { try client.pool.get().queuedRequests == 1 }
            queued.cancel()
            await #expect(throws: CancellationError.self) { try await queued.value }
            #expect(try client.pool.get().queuedRequests == 0)
            server.resume()
            _ = try await blocker.value
            #expect(try await client.send("EXISTS", key) == .integer(0))
        }
    }
}

/// Runs `body` with a one-connection client of a private server that is stopped while a PING
/// (the blocker) holds the only slot, written and waiting for its reply. `body` resumes the server.
func withStalledSlot(
    maxPipelinedRequests: Int,
    _ body: (RedisClient, PrivateRedisServer, Task<RedisValue, any Error>) async throws -> Void
) async throws {
    try await withPrivateServer { server in
        var configuration = server.configuration()
        configuration.pool.size = 1
        configuration.pool.maxPipelinedRequests = maxPipelinedRequests
        configuration.commandTimeout = .seconds(120)
        try await withClient(configuration: configuration) { client in
            #expect(try await client.send("PING").string == "PONG")
            server.suspend()
            let blocker = Task { try await client.send("PING") }
            // Holding the slot, taken off the connection's queue (or handed over after a round
            // trip begun in place), and read by the I/O thread: a request queued before that read
            // would be written behind it at once.
            try await waitUntil {
                let pool = try client.pool.get()
                return pool.slotsInUse == 1 && pool.queuedRequests == 0 && pool.connections[0].isReading
            }
            do {
                try await body(client, server, blocker)
            } catch {
                server.resume()
                throw error
            }
            server.resume()
        }
    }
}

/// A client name nobody else uses.
func uniqueClientName() -> String { "test-\(UUID().uuidString)" }

/// True when the connection named `name` is blocked on the server (flag `b` in CLIENT LIST).
func isBlocked(clientNamed name: String) async throws -> Bool {
    try await withClient { admin in
        let clients = try await admin.send("CLIENT", "LIST").string ?? ""
        return clients.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.contains("name=\(name)") && fields.contains { $0.hasPrefix("flags=") && $0.contains("b") }
        }
    }
}

/// Ends a BLPOP on `key` by pushing to it.
func release(_ key: String) async throws {
    try await withClient { admin in try await admin.send("LPUSH", key, "go") }
}

/// Waits until `condition` holds, checking every few milliseconds. The 300 s bound only guards
/// against a hang: reaching it is a failure.
func waitUntil(sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(300)
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("the condition never held", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// How many times a task ran, read from another.
private final class RunCounter: Sendable {
    let count = Atomic<Int>(0)
}
