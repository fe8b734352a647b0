// Checks that a connection keeps sending while every cooperative thread is busy: submits calls
// to a pool of one connection that carries one request at a time, each call a script that keeps
// the server busy for a few milliseconds, then occupies all of Swift's cooperative threads with
// work that never suspends. A client that needs a cooperative thread to move the next request to
// the wire times calls out; one whose I/O thread does it answers them all. Prints one line:
// calls,ok,timeouts,other,server_ms,starved_ms
// With --ticker it then measures what the round trip in place costs other tasks (see below).
import Foundation
import ChatMemoryRedis

// What the round trip in place costs other tasks: a ticker sleeps 1 ms at a time and records how
// late it wakes, first with nothing else running, then while one lone caller per cooperative
// thread (each with a client of its own, so each is alone in its pool) calls LPUSH in a loop,
// answered in place. Prints: ticker,load,ticks,p50_us,p99_us,max_us,calls
func tickerLateness(whileLooping loopers: Int, configuration: RedisConfiguration) async throws -> (p50: Int, p99: Int, max: Int, ticks: Int, calls: Int) {
    let clients = (0..<loopers).map { _ in RedisClient(configuration: configuration) }
    for client in clients { _ = try await client.send("PING") }
    let stop = StopFlag()
    let loops = clients.enumerated().map { index, client in
        Task {
            var calls = 0
            while !stop.isSet {
                _ = try? await client.send("LPUSH", "liveness:\(index)", "x")
                calls += 1
                if calls % 1_000 == 0 { _ = try? await client.send("DEL", "liveness:\(index)") }
            }
            _ = try? await client.send("DEL", "liveness:\(index)")
            return calls
        }
    }
    var lateness: [Int] = []
    let end = ContinuousClock.now + .seconds(3)
    while ContinuousClock.now < end {
        let asked = ContinuousClock.now + .milliseconds(1)
        try await Task.sleep(until: asked, clock: .continuous)
        let late = asked.duration(to: .now)
        lateness.append(Int(late.components.seconds * 1_000_000 + late.components.attoseconds / 1_000_000_000_000))
    }
    stop.set()
    var calls = 0
    for loop in loops { calls += await loop.value }
    for client in clients { await client.shutdown() }
    lateness.sort()
    return (lateness[lateness.count / 2], lateness[lateness.count * 99 / 100], lateness.last ?? 0, lateness.count, calls)
}

/// A flag set once by one task and read by others.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

// A server that cannot be reached (or any other error) is printed, with status 1.
do {
    let environment = ProcessInfo.processInfo.environment
    let url = environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
    let calls = max(1, CommandLine.arguments.dropFirst().compactMap { Int($0) }.first ?? 20)
    let busyMilliseconds = 10
    let starved: Duration = .seconds(2)

    let base = try RedisConfiguration(url: url)
    var starvedConfiguration = base
    starvedConfiguration.pool.size = 1
    starvedConfiguration.pool.maxPipelinedRequests = 1
    starvedConfiguration.commandTimeout = .seconds(1)
    let client = RedisClient(configuration: starvedConfiguration)
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

    if CommandLine.arguments.contains("--ticker") {
        for loopers in [0, width] {
            let result = try await tickerLateness(whileLooping: loopers, configuration: base)
            print("ticker,\(loopers) in-place callers,\(result.ticks),\(result.p50),\(result.p99),\(result.max),\(result.calls)")
        }
    }
} catch {
    FileHandle.standardError.write(Data("LivenessProbe: \(error)\n".utf8))
    exit(1)
}
