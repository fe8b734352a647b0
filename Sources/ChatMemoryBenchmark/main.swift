// Measures chat memory for Scripts/bench-chat-memory.sh:
//   append -c C -n N [-w W]   appends of one ~300-byte message (AppendBenchmark.swift)
//   reference-args      the EVALSHA arguments redis-benchmark runs for the same server work
//   window -n N [-p llama] [-r R] [-w W] [-s S]   3,000-token window reads from a session of N
//                       messages, .modelSafe or .llamaIndex (WindowBenchmark.swift)
//   long-llama          a 288-message, ~69k-token session read whole with .llamaIndex, beside
//                       counting its joined text once; prints long-llama,N,tokens,read_ms,count_ms
//   batch -n N          server time of one N-message append (~300 bytes each), of its retry, and
//                       of a plain LPUSH of the same entries; prints batch,N,append_us,retry_us,lpush_us
//   rates append|window -c C -n N -w W [-r R]   rates through any topology (Rates.swift)
//   script-cost -n N -w W   server time per call of the append script, idempotency check off
//                       and on, for ~300-byte and 100 KB entries (ScriptCost.swift)
//   append-cost -n N -w W [-r R] [-m M] [-d D]   server time of an append and of its retry beside a
//                       bare LPUSH + LTRIM + PEXPIRE script and RPUSH + EXPIRE (AppendCost.swift)
//   entry-bytes --texts FILE   Redis memory per message for the chat turns of FILE
//                       (EntryBytes.swift)
// Server times are read from INFO commandstats (CommandStats.swift).
import ChatMemory
import Foundation
import ChatMemoryRedis

let arguments = Array(CommandLine.arguments.dropFirst())
/// The whole number after `name`, or `fallback` without the flag; a flag without a whole number
/// after it ends the process with status 64 (each benchmark clamps the value to its range).
func option(_ name: String, _ fallback: Int) -> Int {
    guard let flag = arguments.firstIndex(of: name) else { return fallback }
    guard arguments.indices.contains(flag + 1), let value = Int(arguments[flag + 1]) else {
        FileHandle.standardError.write(Data("ChatMemoryBenchmark: \(name) needs a whole number\n".utf8))
        exit(64)
    }
    return value
}

let clock = ContinuousClock()
func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// About 300 bytes of text, like a short chat turn.
let turnText = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 7)

/// A benchmark that cannot give a true figure (see ``exitingOnFailure(_:)``).
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `benchmark`; an error it throws (a ``BenchmarkFailure``, a file that cannot be read, a
/// Redis error) is printed to stderr and ends the process with status 1.
func exitingOnFailure(_ benchmark: () async throws -> Void) async {
    do {
        try await benchmark()
    } catch {
        FileHandle.standardError.write(Data("ChatMemoryBenchmark: \(error)\n".utf8))
        exit(1)
    }
}

// Every error (a server that cannot be reached, a figure that cannot be true) is printed and
// ends the process with status 1.
await exitingOnFailure {
    let client = RedisClient(configuration: try .fromEnvironment())
    let memory = try RedisChatMemory(client: client)

    switch arguments.first {
    case "append":
        try await benchmarkAppends(memory: memory)

    case "reference-args":
        // One line per argument after EVALSHA, with the message id left for redis-benchmark's
        // __rand_int__ so each call stores a new message, as the client's appends do.
        let message = ChatMessage(id: "msg-__rand_int__", role: .user, content: turnText)
        let counter = ChatMemoryConfiguration().tokenCounter
        let entry = try String(decoding: ChatMessage.jsonEncoder.encode(message), as: UTF8.self)
        let prefix = #"{"id":"msg-__rand_int__","#
        let stored = prefix + #""v":1,"tokens":\#(counter.count(message)),"counter":"\#(counter.identifier)","message":\#(entry)}"#
        let keys = RedisChatMemory.appendScriptKeys(sessionKey: "bench:reference")
        for line in [RedisChatMemory.appendScriptSHA1, String(keys.count)] + keys + ["", "", String(ChatMemoryConfiguration().idempotencyWindow), prefix, stored] { print(line) }

    case "window":
        try await benchmarkWindows(memory: memory)

    case "long-llama":
        // About 240 cl100k tokens a message: 288 of them hold ~69k tokens.
        let chat = memory.session("bench:long-llama")
        try await chat.clear()
        let turns = (0..<288).map { ChatMessage(role: $0.isMultiple(of: 2) ? .user : .assistant, content: "\($0): " + String(repeating: turnText, count: 3)) }
        try await chat.append(contentsOf: turns)
        let counter = try TiktokenCounter()
        let joined = turns.map { $0.content ?? "None" }.joined(separator: " ")
        var reads: [Duration] = [], counts: [Duration] = []
        var tokens = 0
        for _ in 0..<50 {
            var started = clock.now
            let window = try await chat.window(tokenLimit: 1_000_000, policy: .llamaIndex)
            reads.append(clock.now - started)
            guard window.messages.count == turns.count else { print("long-llama: the window lost messages"); exit(1) }
            started = clock.now
            tokens = counter.count(joined)
            counts.append(clock.now - started)
        }
        reads.sort(); counts.sort()
        print(String(format: "long-llama,%d,%d,%.3f,%.3f", turns.count, tokens, milliseconds(reads[25]), milliseconds(counts[25])))
        try await chat.clear()

    case "batch":
        try await measureBatch(client: client, memory: memory)

    case "rates":
        try await measureRates(client: client, arguments: arguments)

    case "script-cost":
        try await measureScriptCost(client: client, arguments: arguments)

    case "append-cost":
        try await measureAppendCost(client: client)

    case "entry-bytes":
        try await measureEntryBytes(client: client, memory: memory)

    default:
        FileHandle.standardError.write(Data("usage: ChatMemoryBenchmark append -c C -n N | reference-args | window -n N [-p llama] | long-llama | batch -n N | rates ... | script-cost -n N -w W | append-cost -n N -w W [-r R] [-m M] [-d D] | entry-bytes --texts FILE\n".utf8))
        exit(64)
    }
    await client.shutdown()
}
