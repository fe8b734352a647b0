import ChatMemory
import Foundation

/// Readable forms of messages and times.
enum Readable {
    /// One message:
    ///
    ///     [2026-11-25 22:01:03] user: What is the weather in Oslo?
    ///     [2026-11-25 22:01:04] assistant: (calls weather#call_1 {"city":"Oslo"})
    ///     [2026-11-25 22:01:05] tool (result of call_1): {"temp":3}
    ///
    /// Further lines of a multi-line content are indented; `verbose` adds the id, tokens and
    /// metadata. Every stored text goes through ``displayable(_:)``, so an entry cannot move the
    /// cursor, colour the terminal or fake another line.
    static func message(_ message: ChatMessage, tokens: Int? = nil, verbose: Bool = false, formatter: DateFormatter) -> String {
        var head = "[\(formatter.string(from: message.createdAt))] \(message.role.rawValue)"
        switch (message.name.map(displayable), message.toolCallID.map(displayable)) {
        case (let name?, let callID?): head += " (\(name), result of \(callID))"
        case (let name?, nil): head += " (\(name))"
        case (nil, let callID?): head += " (result of \(callID))"
        case (nil, nil): break
        }
        head += ":"
        var lines: [String] = []
        let content = (message.content ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        if message.content != nil || message.toolCalls.isEmpty {
            lines.append(head + " " + (content.first.map { displayable(String($0)) } ?? ""))
            lines += content.dropFirst().map { "    " + displayable(String($0)) }
        } else {
            lines.append(head)
        }
        for call in message.toolCalls {
            lines.append("    → calls \(displayable(call.name))#\(displayable(call.id)) \(displayable(call.arguments))")
        }
        if verbose {
            var details = "    id \(displayable(message.id))"
            if let tokens { details += ", \(tokens) tokens" }
            if !message.metadata.isEmpty {
                details += ", metadata " + message.metadata.sorted { $0.key < $1.key }.map { "\(displayable($0.key))=\(displayable($0.value))" }.joined(separator: " ")
            }
            lines.append(details)
        }
        return lines.joined(separator: "\n")
    }

    /// Text safe on a terminal: control characters other than tab (carriage return, escape, the
    /// C1 controls; line feeds too, where a caller has not split on them) and bidirectional
    /// overrides become `\u{…}`; everything else, backslashes included, is kept as it is.
    static func displayable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if needsEscaping(scalar) {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" { return false }
        if scalar.properties.generalCategory == .control { return true }
        return (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
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
    /// Whole milliseconds, for JSON; clamped to `Int`'s range instead of overflowing.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let (whole, overflow) = Int(seconds).multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return whole.addingClamped(Int(attoseconds / 1_000_000_000_000_000))
    }
}

extension Int {
    /// The sum, clamped to `Int.min...Int.max` instead of trapping on overflow (stored counts
    /// are data, and data may be absurd).
    func addingClamped(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}

extension Date {
    /// Unix milliseconds, clamped to the ±9e15 ms the library stores (about ±285,000 years); NaN is 0.
    var unixMilliseconds: Int64 {
        let ms = (timeIntervalSince1970 * 1000).rounded()
        guard !ms.isNaN else { return 0 }
        return Int64(Swift.max(-9.0e15, Swift.min(9.0e15, ms)))
    }
}
