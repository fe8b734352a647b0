import Foundation

/// The JSON form of a message, stable across versions:
///
/// ```json
/// {"id":"m1","role":"assistant","name":"bot",
///  "tool_calls":[{"id":"call_1","name":"weather","arguments":"{\"city\":\"Oslo\"}"}],
///  "tool_call_id":"call_0","metadata":{"k":"v"},"created_at":1735787045678}
/// ```
///
/// - Keys are snake_case: `id, role, content, name, tool_calls [{id, name, arguments}],
///   tool_call_id, metadata, parts, created_at` (`parts`: see ``ContentPart``; a message with
///   parts keeps their text in `content` too, so a reader from before parts sees it).
/// - `created_at` is an integer: Unix time in milliseconds (UTC). Decoding also accepts a
///   fractional number and rounds it to the millisecond.
/// - Encoding omits `content`, `name` and `tool_call_id` when nil, `tool_calls`, `metadata` and
///   `parts` when empty. An empty `content` is written as `""`: absent and empty stay apart.
/// - Decoding requires `id` and `role`; the others default (`content`, `name` and
///   `tool_call_id` to nil when absent or `null`, `tool_calls` to `[]`, `metadata` to `[:]`,
///   `created_at` to the Unix epoch). Unknown keys are ignored, so a
///   newer writer's extra keys don't break an older reader. A `role` other than
///   `system`/`user`/`assistant`/`tool` is a `DecodingError`.
///
/// The keys are fixed, but a `JSONEncoder`/`JSONDecoder` whose key strategy converts case
/// also rewrites them (and the `metadata` keys): use ``jsonData()`` and ``init(jsonData:)``,
/// or ``jsonEncoder``/``jsonDecoder``, which never do.
///
/// ```swift
/// let data = try message.jsonData()
/// let back = try ChatMessage(jsonData: data)   // back == message
/// ```
extension ChatMessage: Codable {
    enum CodingKeys: String, CodingKey {
        case id, role, content, name
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
        case metadata, parts
        case createdAt = "created_at"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let createdAt: Date
        if let ms = try? c.decodeIfPresent(Int64.self, forKey: .createdAt) {
            createdAt = Self.date(unixMilliseconds: ms)
        } else if let ms = try c.decodeIfPresent(Double.self, forKey: .createdAt) {
            guard ms.isFinite else {
                throw DecodingError.dataCorruptedError(
                    forKey: .createdAt, in: c, debugDescription: "created_at is not a finite number")
            }
            createdAt = Self.date(unixMilliseconds: Int64(max(-9.0e15, min(9.0e15, ms.rounded()))))
        } else {
            createdAt = Date(timeIntervalSince1970: 0)
        }
        self.init(
            id: try c.decode(String.self, forKey: .id),
            role: try c.decode(Role.self, forKey: .role),
            content: try c.decodeIfPresent(String.self, forKey: .content),
            name: try c.decodeIfPresent(String.self, forKey: .name),
            toolCalls: try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls) ?? [],
            toolCallID: try c.decodeIfPresent(String.self, forKey: .toolCallID),
            metadata: try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:],
            createdAt: createdAt
        )
        parts = try c.decodeIfPresent(ReadableParts.self, forKey: .parts)?.parts ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(role, forKey: .role)
        try c.encodeIfPresent(content, forKey: .content)
        try c.encodeIfPresent(name, forKey: .name)
        if !toolCalls.isEmpty { try c.encode(toolCalls, forKey: .toolCalls) }
        try c.encodeIfPresent(toolCallID, forKey: .toolCallID)
        if !metadata.isEmpty { try c.encode(metadata, forKey: .metadata) }
        if !parts.isEmpty { try c.encode(parts, forKey: .parts) }
        try c.encode(Self.unixMilliseconds(createdAt), forKey: .createdAt)
    }

    /// A new encoder that writes the documented form: sorted keys, no key conversion.
    public static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A new decoder that reads the documented form: no key conversion.
    public static var jsonDecoder: JSONDecoder { JSONDecoder() }

    /// The message's JSON form (UTF-8).
    public func jsonData() throws -> Data {
        try Self.jsonEncoder.encode(self)
    }

    /// Decodes a message from its JSON form; throws `DecodingError` on a missing `id`/`role`,
    /// an unknown role, or malformed JSON.
    public init(jsonData: Data) throws {
        // JSONDecoder traps on some malformed input (an array opened past its nesting limit on
        // the last byte); the entry parser rejects exactly what it would reject, without trapping.
        if case .malformed = EntryJSON.parse(Array(jsonData)) {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "the data is not valid JSON"))
        }
        self = try Self.jsonDecoder.decode(ChatMessage.self, from: jsonData)
    }
}

extension ChatMessage.ToolCall {
    enum CodingKeys: String, CodingKey { case id, name, arguments }

    /// Missing fields decode as empty strings; unknown keys are ignored.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decodeIfPresent(String.self, forKey: .id) ?? "",
            name: try c.decodeIfPresent(String.self, forKey: .name) ?? "",
            arguments: try c.decodeIfPresent(String.self, forKey: .arguments) ?? ""
        )
    }
}
