// Measures the ChatTokenizer encoders; Scripts/bench-tokenizer.sh runs it beside Python tiktoken.
//
//   TokenizerBenchmark TEXT-FILE MESSAGES-FILE
//
// TEXT-FILE is encoded whole (1 MiB of mixed text); MESSAGES-FILE holds NUL-separated ~300-byte
// messages that are counted one at a time. Prints one JSON object per bundled encoding.
import ChatTokenizer
import Foundation

/// The process's resident set size in bytes, from /proc/self/status.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(line.split(separator: " ")[1])
    else { return 0 }
    return kilobytes * 1024
}

/// The time `body` takes, in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = start.duration(to: .now).components
    return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
}

/// The fastest of `rounds` runs of `body`, in seconds.
func fastest(rounds: Int, _ body: () -> Void) -> Double {
    (0..<rounds).map { _ in seconds(body) }.min()!
}

let arguments = CommandLine.arguments
guard arguments.count == 3,
      let text = try? String(contentsOfFile: arguments[1], encoding: .utf8),
      let messageData = FileManager.default.contents(atPath: arguments[2])
else {
    FileHandle.standardError.write(Data("usage: TokenizerBenchmark TEXT-FILE MESSAGES-FILE\n".utf8))
    exit(2)
}
let messages = messageData.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }

for encoding in Tokenizer.BundledEncoding.allCases {
    let before = residentBytes()
    var loaded: Tokenizer?
    let loadSeconds = try seconds { loaded = try Tokenizer.bundled(encoding) }
    let tokenizer = loaded!
    let loadedBytes = residentBytes() - before

    var tokenCount = 0
    let encodeSeconds = fastest(rounds: 5) { tokenCount = tokenizer.encode(text, specialTokens: .plainText).count }
    var counted = 0
    let countSeconds = fastest(rounds: 5) {
        counted = 0
        for message in messages { counted &+= tokenizer.count(message) }
    }
    let averageMessageBytes = Double(messages.reduce(0) { $0 + $1.utf8.count }) / Double(messages.count)
    print("""
        {"side":"swift","encoding":"\(encoding.rawValue)","tokens":\(tokenCount),\
        "tokens_per_second":\(Double(tokenCount) / encodeSeconds),\
        "count_microseconds":\(countSeconds / Double(messages.count) * 1e6),"counted":\(counted),\
        "message_bytes":\(averageMessageBytes),"load_rss_bytes":\(loadedBytes),\
        "load_seconds":\(loadSeconds)}
        """)
}
