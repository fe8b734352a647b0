import ChatMemory
import Foundation

/// Standard output, buffered and written in large chunks (exports can be big). Writes throw
/// ``StandardOutputClosed`` once the reader has gone.
struct StandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try Streams.writeOutput(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Prints one value as a JSON document (sorted keys, messages in their documented form) and a newline.
func printJSON(_ value: some Encodable) throws {
    var data = try ChatMessage.jsonEncoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    try Streams.writeOutput(data)
}

/// Prints readable text followed by a newline.
func printLine(_ text: String) throws {
    try Streams.writeOutput((text + "\n").utf8)
}

/// Writes text to standard error (never fails: see ``Streams/writeError(_:)``).
func printError(_ text: String) {
    Streams.writeError(text)
}

/// A session id in JSON output: its text (invalid UTF-8 replaced by U+FFFD) and its bytes in hex,
/// which `--hex` takes back exactly.
struct SessionJSON: Encodable {
    let id: String
    let hex: String

    init(_ session: SessionID) {
        id = session.description
        hex = session.hex
    }
}
