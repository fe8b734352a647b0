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

    if warmup > 0 { _ = try await measureOperations(warmup, tasks: concurrency) { try await operation(sessions[$0]) } }
    let (latencies, wall) = try await measureOperations(requests, tasks: concurrency) { try await operation(sessions[$0]) }
    for session in sessions { _ = try await session.clear() }

    let summary = LatencySummary(latencies: latencies, wall: wall)
    print(String(format: "%@,%d,%d,%d,%d,", kind, concurrency, summary.count, warmup, replicas) + summary.csv)
}
