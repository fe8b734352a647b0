import ChatMemory
import Foundation

/// Standard output, buffered and written in large chunks (exports can be big).
struct StandardOutput {
    private var buffer = Data()

    mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func write(_ data: Data) {
        buffer.append(data)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        guard !buffer.isEmpty else { return }
        FileHandle.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Prints one value as a JSON document (sorted keys, messages in their documented form) and a newline.
func printJSON(_ value: some Encodable) throws {
    let encoder = ChatMessage.jsonEncoder
    var data = try encoder.encode(value)
    data.append(UInt8(ascii: "\n"))
    FileHandle.standardOutput.write(data)
}

/// Prints readable text followed by a newline.
func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// A session id in JSON output: its text, plus its bytes in hex when they are not UTF-8.
struct SessionJSON: Encodable {
    let id: String
    let hex: String?

    init(_ session: SessionID) {
        id = session.description
        hex = session.string == nil ? session.bytes.map { String(format: "%02x", $0) }.joined() : nil
    }
}

/// Readable forms of messages and times.
enum Readable {
    /// One message:
    ///
    ///     [2026-11-25 22:01:03] user: What is the weather in Oslo?
    ///     [2026-11-25 22:01:04] assistant: (calls weather#call_1 {"city":"Oslo"})
    ///     [2026-11-25 22:01:05] tool (result of call_1): {"temp":3}
    ///
    /// Further lines of a multi-line content are indented; `verbose` adds the id, tokens and metadata.
    static func message(_ message: ChatMessage, tokens: Int? = nil, verbose: Bool = false, formatter: DateFormatter) -> String {
        var head = "[\(formatter.string(from: message.createdAt))] \(message.role.rawValue)"
        switch (message.name, message.toolCallID) {
        case (let name?, let callID?): head += " (\(name), result of \(callID))"
        case (let name?, nil): head += " (\(name))"
        case (nil, let callID?): head += " (result of \(callID))"
        case (nil, nil): break
        }
        head += ":"
        var lines: [String] = []
        let content = (message.content ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        if message.content != nil || message.toolCalls.isEmpty {
            lines.append(head + " " + (content.first.map(String.init) ?? ""))
            lines += content.dropFirst().map { "    " + $0 }
        } else {
            lines.append(head)
        }
        for call in message.toolCalls {
            lines.append("    → calls \(call.name)#\(call.id) \(call.arguments)")
        }
        if verbose {
            var details = "    id \(message.id)"
            if let tokens { details += ", \(tokens) tokens" }
            if !message.metadata.isEmpty {
                details += ", metadata " + message.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            lines.append(details)
        }
        return lines.joined(separator: "\n")
    }

    /// Formats times as `2026-11-25 22:01:03` in the local time zone (set TZ to choose another).
    static func dateFormatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }

    /// `3d 4h 5m 6s`, `2.5s`, or `none (never expires)` for nil.
    static func duration(_ duration: Duration?) -> String {
        guard let duration else { return "none (never expires)" }
        let ms = duration.milliseconds
        if ms < 60_000 { return String(format: "%.1fs", Double(ms) / 1000) }
        var seconds = ms / 1000
        var parts: [String] = []
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] where seconds >= size {
            parts.append("\(seconds / size)\(unit)")
            seconds %= size
        }
        if seconds > 0 { parts.append("\(seconds)s") }
        return parts.joined(separator: " ")
    }
}

extension Duration {
    /// Whole milliseconds, for JSON.
    var milliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
