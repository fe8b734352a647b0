import ChatTokenizer
import Foundation

/// `joined ENCODING MESSAGES-FILE`: the count LlamaIndex needs for a window of chat messages,
/// their contents joined by spaces, for every window size from the newest message back.
/// MESSAGES-FILE holds NUL-separated messages, oldest first. Prints one JSON object comparing
/// `JoinedTextCounter` (one prepend per message) with one `count` of the whole joined text and
/// with counting every window from scratch.
func benchmarkJoinedWindow(encodingName: String, messagesPath: String) throws {
    guard let encoding = Tokenizer.BundledEncoding(rawValue: encodingName),
          let data = FileManager.default.contents(atPath: messagesPath)
    else { usage() }
    let tokenizer = try Tokenizer.bundled(encoding)
    let messages = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let joined = messages.joined(separator: " ")

    var total = 0
    let countSeconds = Measure.fastest(rounds: 5) { total = tokenizer.count(joined) }
    var incremental = 0
    let prependSeconds = Measure.fastest(rounds: 5) {
        var counter = tokenizer.joinedCounter()
        for message in messages.reversed() { incremental = counter.prepend(message) }
    }
    var windows = 0
    let naiveSeconds = Measure.fastest(rounds: 1) {
        windows = 0
        for start in messages.indices.reversed() {
            windows &+= tokenizer.count(messages[start...].joined(separator: " "))
        }
    }
    print("""
        {"encoding":"\(encoding.rawValue)","messages":\(messages.count),"bytes":\(joined.utf8.count),\
        "tokens":\(total),"incremental_tokens":\(incremental),"count_seconds":\(countSeconds),\
        "prepend_all_seconds":\(prependSeconds),"recount_every_window_seconds":\(naiveSeconds)}
        """)
}
