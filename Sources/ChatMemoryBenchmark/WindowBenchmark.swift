import ChatMemory
import ChatMemoryRedis

/// `window -n N [-p llama] [-r R] [-w W] [-s S]`: R reads (default 1,000 under .modelSafe, 200
/// under .llamaIndex) of a 3,000-token window from a session of N messages, after W unmeasured
/// ones (default 20). Message i is `"i: "` followed by S copies (default 4) of ``turnText``;
/// roles alternate user, assistant.
///
/// Prints `window,policy,N,messages_in_window,R,W,mean_ms,p50_ms,p99_ms,ops_per_s`.
func benchmarkWindows(memory: RedisChatMemory) async throws {
    let size = max(0, option("-n", 10))
    let policy: WindowPolicy = arguments.contains("llama") ? .llamaIndex : .modelSafe
    let reads = max(1, option("-r", policy == .llamaIndex ? 200 : 1000))
    let warmup = max(0, option("-w", 20))
    let repeats = max(1, option("-s", 4))
    let chat = memory.session(try SessionID("bench:window:\(size)"))
    try await chat.clear()
    let content = String(repeating: turnText, count: repeats)
    let turns = (0..<size).map { ChatMessage(role: $0.isMultiple(of: 2) ? .user : .assistant, content: "\($0): " + content) }
    for chunk in stride(from: 0, to: size, by: 1000) {
        try await chat.append(contentsOf: Array(turns[chunk..<min(size, chunk + 1000)]))
    }
    let windowSize = try await chat.window(tokenLimit: 3000, policy: policy).messages.count
    if warmup > 0 { _ = try await measureOperations(warmup, tasks: 1) { _ in _ = try await chat.window(tokenLimit: 3000, policy: policy) } }
    let (latencies, wall) = try await measureOperations(reads, tasks: 1) { _ in _ = try await chat.window(tokenLimit: 3000, policy: policy) }
    let summary = LatencySummary(latencies: latencies, wall: wall)
    print("window,\(policy == .llamaIndex ? "llamaIndex" : "modelSafe"),\(size),\(windowSize),\(summary.count),\(warmup),\(summary.csv)")
    try await chat.clear()
}
