import Foundation
import Redis
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

    @Test func waitersAreServedInArrivalOrder() async throws {
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1 }) { client in
            let key = TestServer.key()
            let blocker = Task { try await client.send("BLPOP", key + ":never", "0.5") }
            try await waitUntilBlocked(key + ":never")
            var waiters: [Task<RedisValue, any Error>] = []
            for index in 0..<20 {
                waiters.append(Task { try await client.send("RPUSH", key, index) })
                try await Task.sleep(for: .milliseconds(5))
            }
            _ = try await blocker.value
            for waiter in waiters { _ = try await waiter.value }
            let order = try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.int)
            #expect(order == Array(0..<20))
            try await client.send("DEL", key)
        }
    }

    @Test func cancelledWaiterLeavesTheQueue() async throws {
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1 }) { client in
            let never = TestServer.key() + ":never"
            let blocker = Task { try await client.send("BLPOP", never, "0.5") }
            try await waitUntilBlocked(never)
            let waiter = Task { try await client.send("PING") }
            try await Task.sleep(for: .milliseconds(50))
            let started = ContinuousClock.now
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(ContinuousClock.now - started < .milliseconds(300))
            _ = try await blocker.value
            #expect(try await client.send("PING").string == "PONG")
        }
    }

    @Test func cancelledQueuedRequestIsWithdrawn() async throws {
        // Pipelined requests wait on the connection itself; a cancelled one is never sent.
        try await withClient({ $0.pool.size = 1 }) { client in
            let key = TestServer.key()
            let blocker = Task { try await client.send("BLPOP", key + ":never", "0.5") }
            try await waitUntilBlocked(key + ":never")
            let queued = Task { try await client.send("SET", key, "should not be written") }
            try await Task.sleep(for: .milliseconds(50))
            queued.cancel()
            await #expect(throws: CancellationError.self) { try await queued.value }
            _ = try await blocker.value
            #expect(try await client.send("EXISTS", key) == .integer(0))
        }
    }
}

/// Waits until a client is blocked on `key` on the server (so what is queued next really waits).
func waitUntilBlocked(_ key: String) async throws {
    try await withClient { admin in
        for _ in 0..<200 {
            let clients = try await admin.send("CLIENT", "LIST").string ?? ""
            if clients.contains("cmd=blpop") { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("no client blocked on \(key)")
    }
}
