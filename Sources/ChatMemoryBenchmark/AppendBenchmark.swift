import ChatMemory
import ChatMemoryRedis

/// `append -c C -n N [-w W]`: N appends of one ~300-byte message (``turnText``) to one session
/// from C tasks, after W unmeasured ones (default 1,000) on the same session.
///
/// Prints `append,C,N,W,mean_ms,p50_ms,p99_ms,ops_per_s`.
func benchmarkAppends(memory: RedisChatMemory) async throws {
    let concurrency = max(1, option("-c", 1))
    let requests = max(1, option("-n", 20_000))
    let warmup = max(0, option("-w", 1_000))
    let chat = memory.session(try SessionID("bench:append:\(concurrency)"))
    try await chat.clear()
    if warmup > 0 { _ = try await measureOperations(warmup, tasks: concurrency) { _ in try await chat.append(.user(turnText)) } }
    let (latencies, wall) = try await measureOperations(requests, tasks: concurrency) { _ in try await chat.append(.user(turnText)) }
    let summary = LatencySummary(latencies: latencies, wall: wall)
    print("append,\(concurrency),\(summary.count),\(warmup),\(summary.csv)")
    try await chat.clear()
}
