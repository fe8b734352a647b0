import ChatMemory
import ChatMemoryRedis
import Foundation

/// `script-cost -n N -w W` for Scripts/bench-append-script.sh: the server time per call of the
/// append script (`cmdstat_evalsha` usec_per_call from `INFO commandstats`, reset with
/// `CONFIG RESETSTAT` before each row), for appends of one message to a session whose newest
/// entries are the same size, with the idempotency check off (window 0: the reference) and at
/// the default window. Each row is W unmeasured appends (which also fill the session with
/// entries of its size) and then N measured ones, on one connection, one at a time; sessions
/// keep 200 messages and a one-day time to live, as a deployment would.
///
/// Prints one line per row, `script-cost,entry_bytes,window,N,W,usec_per_call,ratio` (the ratio
/// to the window-0 row of the same entry size), then the same as a table.
func measureScriptCost(client: RedisClient, arguments: [String]) async throws {
    let requests = max(1, option("-n", 5_000))
    let warmup = max(17, option("-w", 500))
    let defaultWindow = ChatMemoryConfiguration().idempotencyWindow
    let run = UInt32.random(in: 0...UInt32.max)
    var lines: [String] = []
    for (label, content) in [("300 B", turnText), ("100 KB", String(repeating: turnText, count: 100_000 / turnText.utf8.count))] {
        var reference: Double?
        for window in [0, defaultWindow] {
            var configuration = ChatMemoryConfiguration()
            configuration.idempotencyWindow = window
            configuration.maxMessages = 200
            configuration.timeToLive = .seconds(86_400)
            configuration.tokenCounter = ApproximateTokenCounter()   // the server's time is measured, not the client's
            let memory = try RedisChatMemory(client: client, configuration: configuration)
            let chat = memory.session(try SessionID("bench:script-cost:\(run):\(content.utf8.count):\(window)"))
            for _ in 0..<warmup { try await chat.append(.user(content)) }
            try await client.send("CONFIG", "RESETSTAT")
            for _ in 0..<requests { try await chat.append(.user(content)) }
            let (calls, perCall) = try await evalshaStats(client)
            try await chat.clear()
            guard calls == requests else {
                print("script-cost: expected \(requests) EVALSHA calls, the server counted \(calls) (is another client using it?)")
                exit(1)
            }
            reference = reference ?? perCall
            let ratio = perCall / (reference ?? perCall)
            print(String(format: "script-cost,%d,%d,%d,%d,%.2f,%.2f", content.utf8.count, window, requests, warmup, perCall, ratio))
            lines.append(String(format: "%-8@ %6d %8d %7d %10.2f %7.2f", label, window, requests, warmup, perCall, ratio))
        }
    }
    print("\nentries   window requests warm-up  µs/call  vs window 0")
    for line in lines { print(line) }
}

/// The `EVALSHA` calls and server microseconds per call since the last `CONFIG RESETSTAT`.
private func evalshaStats(_ client: RedisClient) async throws -> (calls: Int, usecPerCall: Double) {
    let stats = try await CommandStats.read(client)["evalsha"] ?? CommandStats()
    return (stats.calls, stats.usecPerCall)
}
