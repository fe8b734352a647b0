// Measures the ChatTokenizer encoders; Scripts/bench-tokenizer.sh runs it beside Python tiktoken.
//
//   TokenizerBenchmark mixed TEXT-FILE MESSAGES-FILE   encode mixed text, count short messages
//   TokenizerBenchmark piece ENCODING FILE             encode one long unbroken piece
//   TokenizerBenchmark joined ENCODING MESSAGES-FILE   count a window's joined text incrementally
import Foundation

let arguments = CommandLine.arguments.dropFirst()
do {
    switch (arguments.first, arguments.count) {
    case ("mixed", 3): try benchmarkMixedText(textPath: arguments[2], messagesPath: arguments[3])
    case ("piece", 3): try benchmarkLongPiece(encodingName: arguments[2], path: arguments[3])
    case ("joined", 3): try benchmarkJoinedWindow(encodingName: arguments[2], messagesPath: arguments[3])
    default: usage()
    }
} catch {
    FileHandle.standardError.write(Data("TokenizerBenchmark: \(error)\n".utf8))
    exit(1)
}
