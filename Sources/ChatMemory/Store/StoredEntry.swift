import ChatMemoryRedis
import Foundation

/// How one message is stored as one element of the session's Redis list (UTF-8 JSON). An
/// append writes the compact form, an array:
///
///     ["<message id>",42,"user","Hello!",1735787045678]
///     ["<message id>",{"o200k_base":42},"tool","18°C",1735787045678,{"tool_call_id":"call_1"}]
///
/// id, token count, role, content (`null`: none), `created_at` (Unix ms), and, only when the
/// message has any, an object of its other keys (`metadata`, `name`, `parts`, `tool_call_id`,
/// `tool_calls`, as in ``ChatMessage``'s JSON form). The count is the message's count by
/// `cl100k_base` as a number, or by another counter as `{"<counter>":n}`. The id comes first so
/// an append can recognise a message it already stored by the element's first bytes without
/// decoding JSON on the server.
///
/// Read as well: the object form written before (and by summaries, ``SummaryMetadata``),
///
///     {"id":"<message id>","v":1,"tokens":42,"counter":"cl100k_base","message":{...}}
///
/// and a bare message object (`{"id":..,"role":..,"content":..}`, as someone might `LPUSH` by
/// hand), counted on read. Whatever the form, a message's id key is ``idPrefix(of:)``'s
/// `{"id":"<id>",`: what the id index holds and a retry compares.
enum StoredEntry {
    static let version = 1
    /// The counter a bare number in the compact form's count slot stands for.
    static let defaultCounter = "cl100k_base"

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
        var bytes = compactPrefix(of: message.id)
        bytes.reserveCapacity(bytes.count + (message.content?.utf8.count ?? 0) + 40)
        if counter == defaultCounter {
            bytes += Array(String(tokens).utf8)
        } else {
            bytes.append(UInt8(ascii: "{"))
            EntryJSON.writeString(counter, to: &bytes)
            bytes += Array(":\(tokens)}".utf8)
        }
        bytes += compactSuffix(of: message)
        return ChatStorageEntry(bytes: bytes, idPrefix: idPrefix(of: message.id))
    }

    /// The first bytes of the compact element of the message with this id: `["<id, escaped>",`.
    static func compactPrefix(of id: String) -> [UInt8] {
        var prefix = [UInt8(ascii: "[")]
        EntryJSON.writeString(id, to: &prefix)
        prefix.append(UInt8(ascii: ","))
        return prefix
    }

    /// The last bytes of the compact element of this message, after its count:
    /// `,"role",content,created_at` and the other keys' object, if any, then `]`.
    static func compactSuffix(of message: ChatMessage) -> [UInt8] {
        var bytes = [UInt8(ascii: ",")]
        EntryJSON.writeString(message.role.rawValue, to: &bytes)
        bytes.append(UInt8(ascii: ","))
        if let content = message.content { EntryJSON.writeString(content, to: &bytes) } else { bytes += Array("null".utf8) }
        bytes += Array(",\(ChatMessage.unixMilliseconds(message.createdAt))".utf8)
        let extrasStart = bytes.count
        bytes += Array(",{".utf8)
        EntryJSON.writeOtherKeys(of: message, to: &bytes)
        if bytes.count == extrasStart + 2 { bytes.removeLast(2) } else { bytes.append(UInt8(ascii: "}")) }
        bytes.append(UInt8(ascii: "]"))
        return bytes
    }

    /// The last bytes of the object-form element of this message: `,"message":{…}}`, the
    /// message's own JSON (keys sorted, so the same message always gives the same bytes).
    static func messageSuffix(of message: ChatMessage) -> [UInt8] {
        var bytes = Array(#","message":"#.utf8)
        EntryJSON.writeMessage(message, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The id key of the message with this id: `{"id":"<id, escaped>",`, the first bytes of its
    /// object-form element.
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
        bytes.withUnsafeBufferPointer { decode(buffer: $0) }
    }

    /// The same, for an entry as a storage's read hands it out.
    static func decode(_ bytes: RedisBytes) -> Decoded? {
        bytes.withUnsafeBytes { decode(buffer: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    private static func decode(buffer: UnsafeBufferPointer<UInt8>) -> Decoded? {
        guard case .value(let value) = EntryJSON.parse(buffer: buffer) else { return nil }
        return (fastDecoded(value) ?? decodedWithFoundation(buffer)).flatMap(withID)
    }

    /// A message without an id cannot be appended, retried or imported: it is not ours.
    private static func withID(_ decoded: Decoded) -> Decoded? {
        decoded.message.id.isEmpty ? nil : decoded
    }

    /// The fast path: `nil` when the entry needs `JSONDecoder`'s judgement.
    private static func fastDecoded(_ value: EntryJSON.Value) -> Decoded? {
        if case .array(let items) = value { return fastCompact(items) }
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
    static func decodedWithFoundation(_ bytes: some Sequence<UInt8>) -> Decoded? {
        let data = Data(bytes)
        if let compact = try? ChatMessage.jsonDecoder.decode(Compact.self, from: data) {
            return withID(Decoded(message: compact.message, tokens: compact.tokens, counter: compact.counter))
        }
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
