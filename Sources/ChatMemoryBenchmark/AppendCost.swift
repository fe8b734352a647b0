import ChatMemory
import ChatMemoryRedis
import Foundation

/// `append-cost -n N -w W [-r ROUNDS] [-m MAX_MESSAGES] [-d DEPTH]` for Scripts/bench-cost.sh: the server
/// time of one single-message append (``turnText``, default configuration but for a cap of
/// MAX_MESSAGES, default 10,000, and a one-day time to live) beside what the same write costs
/// without this library, on one connection, one call at a time:
///
/// - `append`: a new message appended (the append script's `EVALSHA`);
/// - `retry`: a message the session already holds appended again (all duplicates): the one
///   appended DEPTH appends before the newest (default 0, the newest itself, as a client retries
///   a call that timed out; up to the idempotency window, as when other writers came between);
/// - `bare`: a Lua script doing only `LPUSH`, `LTRIM` and `PEXPIRE` of the entry our append
///   stored (the same bytes), on a list of its own, written as such a script usually is (its
///   `LTRIM` bounds are Lua numbers, which Redis before 7.2 formats with `snprintf`);
/// - `bare, strings`: the same script given its bounds as strings (nothing formatted), on a
///   list of its own: the floor of these three writes in a script;
/// - `rpush+expire`: LlamaIndex's `put()` (`RedisChatStore.add_message` with a time to live):
///   `RPUSH` of the same entry and `EXPIRE`, two commands, their server times added;
/// - `bare, back to back`: the bare script again, each call right after the last.
///
/// Before each call of `bare` and `rpush+expire` the client does the work an append does before
/// its call: it builds a new message and counts its tokens (its entry's encoding, a few hundred
/// bytes written, is left out). The server's time per call depends on what ran between calls:
/// with nothing (`bare, back to back`) the server's caches are warmer, and the same script took
/// a median 10% less time (9 runs on this machine, both ways in each): a reference measured so
/// would be spared the work that always precedes our append.
///
/// Each runs W unmeasured calls first (filling its list as much); then N calls each are measured
/// in ROUNDS rounds (default 10) that take the six in turn, every round reset by
/// `CONFIG RESETSTAT` and read from `INFO commandstats`, so a burst of other load on the machine
/// touches all six alike. A figure is the median over the rounds of µs per call.
///
/// Prints `append-cost,max_messages,ttl_s,window,entry_bytes,rounds,N,W,append_us,retry_us,
/// bare_us,rpush_expire_us,rpush_us,expire_us,depth,bare_back_to_back_us,bare_strings_us`, then
/// the same as a table with each figure's range over the rounds.
func measureAppendCost(client: RedisClient) async throws {
    let requests = max(1, option("-n", 5_000))
    let warmup = max(1, option("-w", 500))
    let rounds = min(max(1, option("-r", 10)), requests)
    let maxMessages = max(1, option("-m", 10_000))
    let depth = max(0, option("-d", 0))
    let timeToLive = 86_400
    var configuration = ChatMemoryConfiguration()
    configuration.maxMessages = maxMessages
    configuration.timeToLive = .seconds(timeToLive)
    let memory = try RedisChatMemory(client: client, configuration: configuration)
    let run = UInt32.random(in: 0...UInt32.max)
    let chat = memory.session(try SessionID("bench:append-cost:\(run)"))
    let bareKey = "bench:append-cost:\(run):bare", llamaKey = "bench:append-cost:\(run):rpush"
    let bareStringsKey = "bench:append-cost:\(run):bare-strings"

    /// The newest DEPTH + 1 messages appended, oldest first: the first is the one retried.
    var recent: [ChatMessage] = []
    @discardableResult func appendNew() async throws -> AppendResult {
        let message = ChatMessage.user(turnText)
        recent.append(message)
        if recent.count > depth + 1 { recent.removeFirst() }
        return try await chat.append(message)
    }
    for _ in 0..<max(warmup, depth + 1) { try await appendNew() }
    guard let entry = try await client.send("LINDEX", chat.key, 0).bytes else {
        throw BenchmarkFailure("append-cost: the session holds no entry after the warm-up")
    }
    let bareArguments: [any RedisArgument] = [entry, maxMessages, timeToLive * 1000]
    let bareStringsArguments: [any RedisArgument] = [entry, maxMessages - 1, timeToLive * 1000]
    /// The client's work of an append before its call: a new message, its tokens counted.
    func appendsClientWork() throws {
        guard configuration.tokenCounter.count(ChatMessage.user(turnText)) > 0 else {
            throw BenchmarkFailure("append-cost: a message of \(turnText.utf8.count) bytes counted no tokens")
        }
    }
    for _ in 0..<warmup {
        try await client.evaluate(bareAppendScript, keys: [bareKey], arguments: bareArguments)
        try await client.evaluate(bareStringsAppendScript, keys: [bareStringsKey], arguments: bareStringsArguments)
        try await client.send("RPUSH", llamaKey, entry)
        try await client.send("EXPIRE", llamaKey, timeToLive)
    }

    var append: [Double] = [], retry: [Double] = [], bare: [Double] = [], rpush: [Double] = [], expire: [Double] = []
    var bareBackToBack: [Double] = [], bareStrings: [Double] = []
    for round in 0..<rounds {
        let calls = requests / rounds + (round < requests % rounds ? 1 : 0)
        /// µs per call of each of `commands`, checking that `body` made `calls` of each.
        func perCall(_ commands: [String], _ body: () async throws -> Void) async throws -> [Double] {
            let stats = try await CommandStats.during(client, of: commands, body)
            for (command, figures) in zip(commands, stats) where figures.calls != calls {
                throw BenchmarkFailure("append-cost: expected \(calls) \(command) calls, the server counted \(figures.calls) (is another client using it?)")
            }
            return stats.map(\.usecPerCall)
        }
        append += try await perCall(["evalsha"]) {
            for _ in 0..<calls {
                let result = try await appendNew()
                guard result.appended == 1 else { throw BenchmarkFailure("append-cost: an append stored \(result.appended) messages") }
            }
        }
        retry += try await perCall(["evalsha"]) {
            for _ in 0..<calls {
                let result = try await chat.append(recent[0])
                guard result.appended == 0, result.duplicates == 1 else {
                    throw BenchmarkFailure("append-cost: a retry \(depth) appends back stored \(result.appended) messages (beyond the idempotency window?)")
                }
            }
        }
        bare += try await perCall(["evalsha"]) {
            for _ in 0..<calls {
                try appendsClientWork()
                try await client.evaluate(bareAppendScript, keys: [bareKey], arguments: bareArguments)
            }
        }
        bareStrings += try await perCall(["evalsha"]) {
            for _ in 0..<calls {
                try appendsClientWork()
                try await client.evaluate(bareStringsAppendScript, keys: [bareStringsKey], arguments: bareStringsArguments)
            }
        }
        bareBackToBack += try await perCall(["evalsha"]) {
            for _ in 0..<calls { try await client.evaluate(bareAppendScript, keys: [bareKey], arguments: bareArguments) }
        }
        let both = try await perCall(["rpush", "expire"]) {
            for _ in 0..<calls {
                try appendsClientWork()
                try await client.send("RPUSH", llamaKey, entry)
                try await client.send("EXPIRE", llamaKey, timeToLive)
            }
        }
        rpush.append(both[0])
        expire.append(both[1])
    }
    let length = try await chat.count()
    try await chat.clear()
    try await client.send("DEL", bareKey, bareStringsKey, llamaKey)

    let llama = zip(rpush, expire).map { $0 + $1 }
    let window = configuration.idempotencyWindow
    print(String(format: "append-cost,%d,%d,%d,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%d,%.2f,%.2f", maxMessages, timeToLive, window,
                 entry.count, rounds, requests, warmup, median(append), median(retry), median(bare), median(llama),
                 median(rpush), median(expire), depth, median(bareBackToBack), median(bareStrings)))
    print("""

        Server µs per call, median of \(rounds) rounds (min–max): \(requests) calls of each in all, after \(warmup) \
        unmeasured; entries of \(entry.count) bytes, cap \(maxMessages), time to live \(timeToLive) s, idempotency \
        window \(window); the session held \(length) messages at the end. Each call of the bare script and of \
        RPUSH + EXPIRE follows the client's work of an append (a new message built, its tokens counted), \
        as each of our appends does, but for the back-to-back row
        """)
    for (label, values) in [("our append", append), (depth == 0 ? "our append retried (the newest again)" : "our append retried (\(depth) back)", retry),
                            ("bare script LPUSH + LTRIM + PEXPIRE", bare), ("  the same, calls back to back", bareBackToBack),
                            ("  the same, bounds as strings", bareStrings),
                            ("LlamaIndex put: RPUSH + EXPIRE", llama), ("  of which RPUSH", rpush), ("  of which EXPIRE", expire)] {
        print(String(format: "  %@ %7.2f  (%.2f–%.2f)", label.padding(toLength: 38, withPad: " ", startingAt: 0),
                     median(values), values.min() ?? 0, values.max() ?? 0))
    }
}

/// A capped, expiring append as a script is usually written: push the entry, keep the newest
/// `ARGV[2]`, set the time to live to `ARGV[3]` ms. No idempotency, no id index, no checks.
private let bareAppendScript = RedisScript("""
    redis.call('LPUSH', KEYS[1], ARGV[1])
    redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
    """)

/// The floor of a capped, expiring append: ``bareAppendScript`` with its `LTRIM` bounds given as
/// strings (`ARGV[2]`: the last index kept), so the server formats no Lua number.
private let bareStringsAppendScript = RedisScript("""
    redis.call('LPUSH', KEYS[1], ARGV[1])
    redis.call('LTRIM', KEYS[1], '0', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return 1
    """)

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
}
