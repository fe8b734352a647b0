// Measures chat memory for Scripts/bench-chat-memory.sh:
//   append -c C -n N    appends of one ~300-byte message; prints append,C,N,rps,p50_ms
//   reference-args      the EVALSHA arguments redis-benchmark runs for the same server work
//   window -n N         median time of a 3,000-token window read from a session of N messages;
//                       prints window,N,messages_in_window,median_ms
import ChatMemory
import Foundation
import Redis

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? fallback
}

let clock = ContinuousClock()
func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// About 300 bytes of text, like a short chat turn.
let turnText = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 7)

let client = RedisClient(configuration: try .fromEnvironment())
let memory = try RedisChatMemory(client: client)

switch arguments.first {
case "append":
    let concurrency = option("-c", 1)
    let requests = option("-n", 20_000)
    let chat = memory.session(try SessionID("bench:append:\(concurrency)"))
    try await chat.clear()
    let started = clock.now
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var samples: [Duration] = []
                for _ in 0..<(requests / concurrency) {
                    let sent = clock.now
                    try await chat.append(.user(turnText))
                    samples.append(clock.now - sent)
                }
                return samples
            }
        }
        var all: [Duration] = []
        for try await samples in group { all += samples }
        return all.sorted()
    }
    let seconds = milliseconds(clock.now - started) / 1000
    print(String(format: "append,%d,%d,%.0f,%.3f", concurrency, latencies.count, Double(latencies.count) / seconds,
                 milliseconds(latencies[latencies.count / 2])))
    try await chat.clear()

case "reference-args":
    // One line per argument after EVALSHA, with the message id left for redis-benchmark's
    // __rand_int__ so each call stores a new message, as the client's appends do.
    let message = ChatMessage(id: "msg-__rand_int__", role: .user, content: turnText)
    let counter = ChatMemoryConfiguration().tokenCounter
    let entry = try String(decoding: ChatMessage.jsonEncoder.encode(message), as: UTF8.self)
    let prefix = #"{"id":"msg-__rand_int__","#
    let stored = prefix + #""v":1,"tokens":\#(counter.count(message)),"counter":"\#(counter.identifier)","message":\#(entry)}"#
    for line in [RedisChatMemory.appendScriptSHA1, "1", "bench:reference", "0", "0", String(ChatMemoryConfiguration().idempotencyWindow), prefix, stored] { print(line) }

case "window":
    let size = option("-n", 10)
    let chat = memory.session(try SessionID("bench:window:\(size)"))
    try await chat.clear()
    let turns = (0..<size).map { ChatMessage(role: $0.isMultiple(of: 2) ? .user : .assistant, content: "\($0): " + String(repeating: turnText, count: 4)) }
    for chunk in stride(from: 0, to: size, by: 1000) {
        try await chat.append(contentsOf: Array(turns[chunk..<min(size, chunk + 1000)]))
    }
    var samples: [Duration] = []
    var windowSize = 0
    for _ in 0..<1000 {
        let started = clock.now
        windowSize = try await chat.window(tokenLimit: 3000).messages.count
        samples.append(clock.now - started)
    }
    samples.sort()
    print(String(format: "window,%d,%d,%.3f", size, windowSize, milliseconds(samples[samples.count / 2])))
    try await chat.clear()

default:
    print("usage: ChatMemoryBenchmark append -c C -n N | reference-args | window -n N")
}
await client.shutdown()
