import Foundation

/// Reading the compact form (see ``StoredEntry``): the fast path, and the `JSONDecoder` reading
/// that judges whatever the fast path leaves alone.
extension StoredEntry {
    /// The compact element's message as the object form's reader reads it: its id, role,
    /// content and `created_at` joined to the members of its last element (where those four
    /// keys are ignored, as ``Compact`` ignores them). `nil` sends the entry to `JSONDecoder`.
    static func fastCompact(_ items: [EntryJSON.Value]) -> Decoded? {
        guard items.count == 5 || items.count == 6 else { return nil }
        var tokens: Int, counter: String
        switch items[1] {
        case .integer(let count):
            guard let exact = Int(exactly: count) else { return nil }
            (tokens, counter) = (exact, defaultCounter)
        case .object(let members):
            guard members.count == 1, let name = members[0].key, case .integer(let count) = members[0].value,
                  let exact = Int(exactly: count) else { return nil }
            (tokens, counter) = (exact, name)
        default: return nil
        }
        var members: [EntryJSON.Member] = [
            .init(key: "id", value: items[0]), .init(key: "role", value: items[2]),
            .init(key: "content", value: items[3]), .init(key: "created_at", value: items[4]),
        ]
        if items.count == 6 {
            guard case .object(let others) = items[5] else { return nil }
            members += others.filter { !Compact.coreKeys.contains($0.key ?? "") }
        }
        // The object form's reader reads an absent or null `created_at` as the epoch; here it
        // must be a number.
        guard case .integer = items[4], let message = EntryJSON.message(from: .object(members)) else { return nil }
        return Decoded(message: message, tokens: tokens, counter: counter)
    }

    /// The compact element as `JSONDecoder` reads it.
    struct Compact: Decodable {
        /// Keys of a message that the compact form keeps in its first elements; in its last
        /// element they are ignored.
        static let coreKeys: Set<String> = ["id", "role", "content", "created_at"]

        let message: ChatMessage
        let tokens: Int
        let counter: String

        init(from decoder: any Decoder) throws {
            var items = try decoder.unkeyedContainer()
            let id = try items.decode(String.self)
            if let count = try? items.decode(Int.self) {
                (tokens, counter) = (count, StoredEntry.defaultCounter)
            } else {
                let named = try items.decode([String: Int].self)
                guard named.count == 1, let (name, count) = named.first else {
                    throw DecodingError.dataCorruptedError(in: items, debugDescription: "a count names one counter")
                }
                (tokens, counter) = (count, name)
            }
            let role = try items.decode(ChatMessage.Role.self)
            let content = try items.decodeNil() ? nil : try items.decode(String.self)
            let milliseconds = try items.decode(Int64.self)
            let others = items.isAtEnd ? Others() : try items.decode(Others.self)
            guard items.isAtEnd else { throw DecodingError.dataCorruptedError(in: items, debugDescription: "too many elements") }
            var message = ChatMessage(id: id, role: role, content: content, name: others.name, toolCalls: others.toolCalls,
                                      toolCallID: others.toolCallID, metadata: others.metadata,
                                      createdAt: ChatMessage.date(unixMilliseconds: milliseconds))
            message.parts = others.parts
            self.message = message
        }

        /// The last element: the message's other keys, read as ``ChatMessage``'s decoder reads them.
        struct Others: Decodable {
            var name: String?
            var toolCalls: [ChatMessage.ToolCall] = []
            var toolCallID: String?
            var metadata: [String: String] = [:]
            var parts: [ContentPart] = []

            init() {}

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: ChatMessage.CodingKeys.self)
                name = try c.decodeIfPresent(String.self, forKey: .name)
                toolCalls = try c.decodeIfPresent([ChatMessage.ToolCall].self, forKey: .toolCalls) ?? []
                toolCallID = try c.decodeIfPresent(String.self, forKey: .toolCallID)
                metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
                parts = try c.decodeIfPresent(ReadableParts.self, forKey: .parts)?.parts ?? []
            }
        }
    }
}
