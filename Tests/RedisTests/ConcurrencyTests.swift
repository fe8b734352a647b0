import Foundation
@testable import Redis
import Testing

@Suite struct ConcurrencyTests {
    @Test(arguments: [1, 128])
    func twoHundredTasksShareFourConnections(maxPipelinedRequests: Int) async throws {
        try await withClient({ $0.pool.size = 4; $0.pool.maxPipelinedRequests = maxPipelinedRequests }) { client in
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

    // The tests below hold a client's only slot with a BLPOP on a key of their own, and watch their
    // own connection (by its unique name) and the pool's queues: every step waits for the previous
    // one to have happened, never for a length of time. The BLPOP's 600 s timeout only guards
    // against a hang if a test fails half-way.

    @Test func waitersAreServedInArrivalOrder() async throws {
        let name = uniqueClientName()
        try await withClient(holdingTheOnlySlot(name: name, maxPipelinedRequests: 1)) { client in
            let key = TestServer.key()
            let blocker = Task { try await client.send("BLPOP", key + ":go", 600) }
            try await waitUntil { try await isBlocked(clientNamed: name) }
            var waiters: [Task<RedisValue, any Error>] = []
            for index in 0..<20 {
                waiters.append(Task { try await client.send("RPUSH", key, index) })
                // The next waiter arrives only once this one is queued.
                try await waitUntil { try client.pool.get().waitingCallers == index + 1 }
            }
            try await release(key + ":go")
            _ = try await blocker.value
            for waiter in waiters { _ = try await waiter.value }
            let order = try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.int)
            #expect(order == Array(0..<20))
            try await client.send("DEL", key)
        }
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        let name = uniqueClientName()
        try await withClient(holdingTheOnlySlot(name: name, maxPipelinedRequests: 1)) { client in
            let key = TestServer.key()
            let blocker = Task { try await client.send("BLPOP", key, 600) }
            try await waitUntil { try await isBlocked(clientNamed: name) }
            let waiter = Task { try await client.send("PING") }
            try await waitUntil { try client.pool.get().waitingCallers == 1 }
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            // It left the queue while the slot was still held: the blocker has not been answered.
            #expect(try client.pool.get().waitingCallers == 0)
            #expect(try await isBlocked(clientNamed: name))
            try await release(key)
            _ = try await blocker.value
            #expect(try await client.send("PING").string == "PONG")
        }
    }

    @Test func cancelledQueuedRequestIsWithdrawn() async throws {
        // Pipelined requests wait on the connection itself; a cancelled one is never sent.
        let name = uniqueClientName()
        try await withClient(holdingTheOnlySlot(name: name, maxPipelinedRequests: 128)) { client in
            let key = TestServer.key()
            let blocker = Task { try await client.send("BLPOP", key + ":go", 600) }
            try await waitUntil { try await isBlocked(clientNamed: name) }
            let queued = Task { try await client.send("SET", key, "should not be written") }
            try await waitUntil { try client.pool.get().queuedRequests == 1 }
            queued.cancel()
            await #expect(throws: CancellationError.self) { try await queued.value }
            #expect(try client.pool.get().queuedRequests == 0)
            try await release(key + ":go")
            _ = try await blocker.value
            #expect(try await client.send("EXISTS", key) == .integer(0))
        }
    }
}

/// One connection, named `name`, whose read timeout outlasts the tests' 600 s BLPOPs.
private func holdingTheOnlySlot(name: String, maxPipelinedRequests: Int) -> (inout RedisConfiguration) -> Void {
    { configuration in
        configuration.pool.size = 1
        configuration.pool.maxPipelinedRequests = maxPipelinedRequests
        configuration.clientName = name
        configuration.commandTimeout = .seconds(660)
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
