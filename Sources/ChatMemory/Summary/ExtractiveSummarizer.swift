/// A summariser that calls no model: it keeps the start of each message, one line per message
/// (`user: first sentence`), after the lines of the previous summary. When the text outgrows
/// `maxCharacters`, it keeps the oldest lines (how the conversation began) and the newest, with
/// `…` between them. Deterministic; for offline tools (`chat-memory compact`) and tests.
///
/// ```swift
/// let result = try await chat.compact(targetTokens: 2_000, summarizer: ExtractiveSummarizer())
/// ```
public struct ExtractiveSummarizer: ChatSummarizer {
    /// The longest summary, in characters (at least 64).
    public var maxCharacters: Int
    /// The longest line kept of one message, in characters (at least 16).
    public var maxLineCharacters: Int

    public init(maxCharacters: Int = 2_000, maxLineCharacters: Int = 160) {
        self.maxCharacters = max(64, maxCharacters)
        self.maxLineCharacters = max(16, maxLineCharacters)
    }

    public func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        var lines = previous.map { $0.split(separator: "\n").map(String.init) } ?? []
        for message in messages {
            if let content = message.content, !content.isEmpty {
                lines.append("\(message.role.rawValue): " + firstSentence(of: content))
            }
            if !message.toolCalls.isEmpty {
                lines.append("assistant called " + message.toolCalls.map(\.name).joined(separator: ", "))
            }
        }
        return bounded(lines)
    }

    /// The text up to its first sentence end, on one line, at most `maxLineCharacters`.
    private func firstSentence(of text: String) -> String {
        var line = ""
        var count = 0
        var previous: Character = " "
        for character in text {
            if count > 0, previous == "." || previous == "?" || previous == "!", character.isWhitespace { break }
            if count == maxLineCharacters { return line + "…" }
            line.append(character.isNewline ? " " : character)
            previous = character
            count += 1
        }
        return line
    }

    /// The lines within `maxCharacters`: the oldest third, then `…`, then the newest that fit.
    private func bounded(_ lines: [String]) -> String {
        let whole = lines.joined(separator: "\n")
        guard whole.count > maxCharacters else { return whole }
        let marker = "…"
        var head: [String] = []
        var used = 0
        for line in lines {
            guard used + line.count + 1 <= maxCharacters / 3 else { break }
            head.append(line)
            used += line.count + 1
        }
        var tail: [String] = []
        used += marker.count + 1
        for line in lines[head.count...].reversed() {
            guard used + line.count + 1 <= maxCharacters else { break }
            tail.insert(line, at: 0)
            used += line.count + 1
        }
        return String((head + [marker] + tail).joined(separator: "\n").prefix(maxCharacters))
    }
}
