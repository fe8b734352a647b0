import Foundation

/// How one message is stored as one element of the session's Redis list (UTF-8 JSON):
///
///     {"id":"<message id>","v":1,"tokens":42,"counter":"cl100k_base/v1","message":{...}}
///
/// `id` comes first so an append can recognise a message it already stored by comparing the
/// element's first bytes (idempotent retries) without decoding JSON on the server. `tokens` is the
/// message's count made by the counter named in `counter` at write time. A bare message object
/// (`{"id":..,"role":..,"content":..}`, as someone might `LPUSH` by hand) is read too, and
/// counted on read.
enum StoredEntry {
    static let version = 1

    /// A decoded element.
    struct Decoded: Sendable {
        let message: ChatMessage
        /// The stored count and the counter that made it, when the element has them.
        let tokens: Int?
        let counter: String?
        /// Set when the element is a summary (`"kind":"summary"`).
        var summary: SummaryMetadata?
    }

    static func encode(_ message: ChatMessage, tokens: Int, counter: String) -> ChatStorageEntry {
        let prefix = idPrefix(of: message.id)
        var bytes = prefix
        bytes.reserveCapacity(prefix.count + (message.content?.utf8.count ?? 0) + 200)
        bytes += Array(#""v":\#(version),"tokens":\#(tokens),"counter":"#.utf8)
        EntryJSON.writeString(counter, to: &bytes)
        bytes += messageSuffix(of: message)
        return ChatStorageEntry(bytes: bytes, idPrefix: prefix)
    }

    /// The last bytes of the element of this message: `,"message":{…}}`, the message's own JSON
    /// (keys sorted, so the same message always gives the same bytes).
    static func messageSuffix(of message: ChatMessage) -> [UInt8] {
        var bytes = Array(#","message":"#.utf8)
        EntryJSON.writeMessage(message, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The first bytes of the element of the message with this id: `{"id":"<id, escaped>",`.
    static func idPrefix(of id: String) -> [UInt8] {
        var prefix = Array(#"{"id":"#.utf8)
        EntryJSON.writeString(id, to: &prefix)
        prefix.append(UInt8(ascii: ","))
        return prefix
    }

    /// Whether an element is a summary as a transcript tells (``RedisChatStorage/transcriptScript``
    /// does the same in Lua): it starts with an id (`{"id":"…"`, escapes skipped) followed by
    /// `,"kind":"summary"`, as ``SummaryMetadata/encode(_:counter:)`` writes it.
    static func isSummaryEntry(_ bytes: [UInt8]) -> Bool {
        let opening = Array(#"{"id":""#.utf8), marker = Array(#","kind":"summary""#.utf8)
        guard bytes.starts(with: opening) else { return false }
        var at = opening.count
        while at < bytes.count {
            switch bytes[at] {
            case UInt8(ascii: "\\"): at += 2
            case UInt8(ascii: "\""): return bytes[(at + 1)...].starts(with: marker)
            default: at += 1
            }
        }
        return false
    }

    /// The element's message, or `nil` when the element is not ours (foreign or broken). Agrees
    /// with ``decodedWithFoundation(_:)`` on every input, except that an element in which any
    /// object repeats a key is `nil` (see ``EntryJSON``).
    static func decode(_ bytes: [UInt8]) -> Decoded? {
        guard case .value(let value) = EntryJSON.parse(bytes) else { return nil }
        return (fastDecoded(value) ?? decodedWithFoundation(bytes)).flatMap(withID)
    }

    /// A message without an id cannot be appended, retried or imported: it is not ours.
    private static func withID(_ decoded: Decoded) -> Decoded? {
        decoded.message.id.isEmpty ? nil : decoded
    }

    /// The fast path: `nil` when the entry needs `JSONDecoder`'s judgement.
    private static func fastDecoded(_ value: EntryJSON.Value) -> Decoded? {
        guard let inner = value["message"] else {
            return EntryJSON.message(from: value).map { Decoded(message: $0, tokens: nil, counter: nil) }
        }
        guard value.isReadableObject, let message = EntryJSON.message(from: inner) else { return nil }
        var tokens: Int?
        switch value["tokens"] {
        case .integer(let count)?: tokens = Int(count)
        case nil, .null?: break
        default: return nil
        }
        var counter: String?
        switch value["counter"] {
        case .string(let name)?: counter = name
        case nil, .null?: break
        default: return nil
        }
        var summary: SummaryMetadata?
        if value["kind"]?.string == SummaryMetadata.kind {
            guard let metadata = SummaryMetadata(fast: value["summary"]) else { return nil }
            summary = metadata
        }
        return Decoded(message: message, tokens: tokens, counter: counter, summary: summary)
    }

    /// The entry as `JSONDecoder` reads it: the judge of anything the fast path leaves alone.
    static func decodedWithFoundation(_ bytes: [UInt8]) -> Decoded? {
        let data = Data(bytes)
        if let envelope = try? ChatMessage.jsonDecoder.decode(Envelope.self, from: data) {
            return withID(Decoded(message: envelope.message, tokens: envelope.tokens, counter: envelope.counter, summary: envelope.summary))
        }
        if let message = try? ChatMessage.jsonDecoder.decode(ChatMessage.self, from: data) {
            return withID(Decoded(message: message, tokens: nil, counter: nil))
        }
        return nil
    }

    private struct Envelope: Decodable {
        let message: ChatMessage
        let tokens: Int?
        let counter: String?
        let summary: SummaryMetadata?

        enum CodingKeys: String, CodingKey { case message, tokens, counter, kind, summary }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = try c.decode(ChatMessage.self, forKey: .message)
            tokens = try c.decodeIfPresent(Int.self, forKey: .tokens)
            counter = try c.decodeIfPresent(String.self, forKey: .counter)
            // Another `kind`, or one that cannot be read, is an ordinary message (as before kinds).
            let isSummary = (try? c.decodeIfPresent(String.self, forKey: .kind)) == SummaryMetadata.kind
            summary = isSummary ? (try? c.decodeIfPresent(SummaryMetadata.self, forKey: .summary)) ?? SummaryMetadata() : nil
        }
    }
}
