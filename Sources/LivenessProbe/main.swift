// Checks that a connection keeps sending while every cooperative thread is busy: submits calls
// to a pool of one connection that carries one request at a time, each call a script that keeps
// the server busy for a few milliseconds, then occupies all of Swift's cooperative threads with
// work that never suspends. A client that needs a cooperative thread to move the next request to
// the wire times calls out; one whose I/O thread does it answers them all. Prints one line:
// calls,ok,timeouts,other,server_ms,starved_ms
import Foundation
import ChatMemoryRedis

let environment = ProcessInfo.processInfo.environment
let url = environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
let calls = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 20
let busyMilliseconds = 10
let starved: Duration = .seconds(2)

var configuration = try RedisConfiguration(url: url)
configuration.pool.size = 1
configuration.pool.maxPipelinedRequests = 1
configuration.commandTimeout = .seconds(1)
let client = RedisClient(configuration: configuration)
_ = try await client.send("PING")
// A script that spins on the server for busyMilliseconds (TIME in a loop).
let script = RedisScript("""
    local t = redis.call('TIME'); local start = t[1] * 1000000 + t[2]
    repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start >= tonumber(ARGV[1]) * 1000
    return 1
    """)
_ = try await client.evaluate(script, arguments: [1])

let outcomes = Task {
    await withTaskGroup(of: String.self) { group in
        for _ in 0..<calls {
            group.addTask {
                do {
                    _ = try await client.evaluate(script, arguments: [busyMilliseconds])
                    return "ok"
                } catch let error as RedisError where error.code == .timeout {
                    return "timeout"
                } catch {
                    return "other"
                }
            }
        }
        var counts: [String: Int] = [:]
        for await outcome in group { counts[outcome, default: 0] += 1 }
        return counts
    }
}
// Let the calls reach the client, then hold every cooperative thread without suspending.
try await Task.sleep(for: .milliseconds(50))
let width = ProcessInfo.processInfo.activeProcessorCount
await withTaskGroup(of: Void.self) { group in
    for _ in 0..<width {
        group.addTask {
            let end = ContinuousClock.now + starved
            var spins = 0
            while ContinuousClock.now < end { spins &+= 1 }
            _ = spins
        }
    }
}
let counts = await outcomes.value
await client.shutdown()
print("\(calls),\(counts["ok", default: 0]),\(counts["timeout", default: 0]),\(counts["other", default: 0]),\(calls * busyMilliseconds),\(starved.components.seconds * 1000)")
