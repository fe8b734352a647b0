import Foundation
@testable import ChatMemoryRedis
import Testing

/// Requests reach the server and get their replies while every cooperative thread is busy: the
/// pool passes a freed slot to the next waiting request on the connection's I/O thread, which
/// needs no task to run. (When a task had to run for that, CPU-bound tasks beside the client,
/// such as other test suites under the thread sanitizer, made calls time out unsent.)
@Suite struct LivenessTests {
    @Test func waitingRequestsAreSentWhileEveryCooperativeThreadIsBusy() async throws {
        let calls = 10
        try await withPrivateServer { server in
            var settings = server.configuration()
            settings.pool.size = 1
            settings.pool.maxPipelinedRequests = 1
            try await withClient(configuration: settings) { client in
                let pool = try client.pool.get()
                _ = try await client.send("PING")
                // The server stopped: one request holds the only slot, the others wait for it.
                server.suspend()
                let results = (0..<calls).map { _ in Task { try await client.send("INCR", "counter").int } }
                try await waitUntil { pool.slotsInUse == 1 && pool.waitingCallers == calls - 1 }

                // A thread of its own lets the server go on and watches its counter; meanwhile one
                // task per core computes without ever suspending, until the server has counted
                // every call. The bound (60 s of spinning) only turns a stall into a failure.
                let counted = Locked(false)
                let watcher = Thread {
                    server.resume()
                    guard let context = try? HiredisContext(configuration: server.configuration()) else { return }
                    let end = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < end {
                        if let reply = try? context.pipeline([RedisCommand("GET", "counter")]).first?.get(), reply.string == "\(calls)" {
                            counted.withLock { $0 = true }
                            return
                        }
                        usleep(1_000)
                    }
                }
                watcher.start()
                let spinners = ProcessInfo.processInfo.activeProcessorCount
                let finished = await withTaskGroup(of: Bool.self) { group in
                    for _ in 0..<spinners {
                        group.addTask {
                            let end = ContinuousClock.now + .seconds(60)
                            while !counted.withLock({ $0 }) {
                                if ContinuousClock.now > end { return false }
                            }
                            return true
                        }
                    }
                    return await group.reduce(true) { $0 && $1 }
                }
                #expect(finished, "the waiting requests were not sent while every cooperative thread was busy")
                var answers: [Int] = []
                for result in results { answers.append(try await result.value ?? -1) }
                #expect(answers.sorted() == Array(1...calls))
            }
        }
    }
}
