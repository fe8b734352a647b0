import ChatMemory
import ChatMemoryRedis

/// `rates append|window -c C -n N -w W [-r R]` for Scripts/bench-cluster.sh: the same client code
/// on whatever REDIS_URL names (one node, a cluster, a Sentinel group).
///
/// - `append`: N appends of one ~300-byte message after W unmeasured ones, from C tasks, each
///   task on its own session (so on a cluster the sessions spread over the slots); with `-r R`
///   every append waits for R replicas (``ChatMemoryConfiguration/replication``, 500 ms).
/// - `window`: N reads of a 3,000-token window (.modelSafe) after W unmeasured ones, from C
///   tasks, each on its own session of 100 messages written beforehand.
///
/// Prints `kind,C,N,W,R,mean_ms,p50_ms,p99_ms,ops_per_s` (R is 0 without replication).
func measureRates(client: RedisClient, arguments: [String]) async throws {
    let kind = arguments.dropFirst().first ?? ""
    guard kind == "append" || kind == "window" else {
        print("usage: ChatMemoryBenchmark rates append|window -c C -n N -w W [-r REPLICAS]")
        return
    }
    let concurrency = max(1, option("-c", 1))
    let requests = max(concurrency, option("-n", 10_000))
    let warmup = max(0, option("-w", 1_000))
    let replicas = option("-r", 0)
    var configuration = ChatMemoryConfiguration()
    if replicas > 0 { configuration.replication = .init(replicas: replicas, timeout: .milliseconds(500)) }
    let memory = try RedisChatMemory(client: client, configuration: configuration)
    let run = UInt32.random(in: 0...UInt32.max)
    let sessions = try (0..<concurrency).map { memory.session(try SessionID("bench:rates:\(run):\(kind):\($0)")) }

    if kind == "window" {
        let turns = (0..<100).map { ChatMessage(role: $0.isMultiple(of: 2) ? .user : .assistant, content: "\($0): " + String(repeating: turnText, count: 4)) }
        for session in sessions { try await session.append(contentsOf: turns) }
    }
    let appending = kind == "append"
    @Sendable func operation(_ session: ChatSession) async throws {
        if appending {
            _ = try await session.append(.user(turnText))
        } else {
            _ = try await session.window(tokenLimit: 3000)
        }
    }

    /// Runs `count` operations spread over the tasks; returns each one's latency and the wall time.
    func phase(_ count: Int) async throws -> (latencies: [Duration], wall: Duration) {
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for (index, session) in sessions.enumerated() {
                let share = count / concurrency + (index < count % concurrency ? 1 : 0)
                group.addTask {
                    var samples: [Duration] = []
                    samples.reserveCapacity(share)
                    for _ in 0..<share {
                        let sent = clock.now
                        try await operation(session)
                        samples.append(clock.now - sent)
                    }
                    return samples
                }
            }
            var all: [Duration] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        return (latencies, clock.now - started)
    }

    if warmup > 0 { _ = try await phase(warmup) }
    let (latencies, wall) = try await phase(requests)
    for session in sessions { _ = try await session.clear() }

    let total = latencies.reduce(Duration.zero, +)
    let mean = milliseconds(total) / Double(latencies.count)
    let p50 = milliseconds(latencies[latencies.count / 2])
    let p99 = milliseconds(latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    let rate = Double(latencies.count) / (milliseconds(wall) / 1000)
    print(String(format: "%@,%d,%d,%d,%d,%.4f,%.4f,%.4f,%.0f", kind, concurrency, latencies.count, warmup, replicas, mean, p50, p99, rate))
}
