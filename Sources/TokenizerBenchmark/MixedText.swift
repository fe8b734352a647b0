import ChatTokenizer
import Foundation

/// `mixed TEXT-FILE MESSAGES-FILE`: TEXT-FILE (1 MiB of mixed text) is encoded whole;
/// MESSAGES-FILE holds NUL-separated ~300-byte messages that are counted one at a time. Prints one
/// JSON object per bundled encoding.
func benchmarkMixedText(textPath: String, messagesPath: String) throws {
    guard let text = try? String(contentsOfFile: textPath, encoding: .utf8),
          let messageData = FileManager.default.contents(atPath: messagesPath)
    else { usage() }
    let messages = messageData.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }

    for encoding in Tokenizer.BundledEncoding.allCases {
        let before = Measure.residentBytes()
        var loaded: Tokenizer?
        let loadSeconds = try Measure.seconds { loaded = try Tokenizer.bundled(encoding) }
        guard let tokenizer = loaded else { return }
        let loadedBytes = Measure.residentBytes() - before

        var tokenCount = 0
        let encodeSeconds = Measure.fastest(rounds: 5) {
            tokenCount = tokenizer.encode(text, specialTokens: .plainText).count
        }
        var counted = 0
        let countSeconds = Measure.fastest(rounds: 5) {
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
}
