import Foundation

/// A window as the `messages` of an OpenAI Chat Completions request.
///
/// ```swift
/// let window = try await chat.window(tokenLimit: 3_000)
/// let body = try OpenAIChatCompletions.jsonData(window.messages) // the "messages" array
/// ```
///
/// Each message maps one to one: `role`, `content` (`null` when the message has none), `name`
/// (not on tool results, which the API gives none), `tool_calls` as
/// `{"id","type":"function","function":{"name","arguments"}}` with the arguments text verbatim,
/// and `tool_call_id`. `metadata`, ids and times stay with the memory.
public enum OpenAIChatCompletions {
    /// One message of the `messages` array.
    public struct Message: Sendable, Hashable, Encodable {
        public var role: String
        public var content: String?
        public var name: String?
        public var toolCalls: [ToolCall]?
        public var toolCallID: String?

        enum CodingKeys: String, CodingKey {
            case role, content, name
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encode(content, forKey: .content)   // null, not absent
            try container.encodeIfPresent(name, forKey: .name)
            try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
            try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
        }
    }

    /// One entry of an assistant message's `tool_calls`.
    public struct ToolCall: Sendable, Hashable, Encodable {
        public var id: String
        public var type = "function"
        public var function: Function

        public struct Function: Sendable, Hashable, Encodable {
            public var name: String
            public var arguments: String
        }
    }

    /// The messages, in order.
    public static func messages(_ messages: [ChatMessage]) -> [Message] {
        messages.map { message in
            Message(role: message.role.rawValue, content: message.content, name: message.role == .tool ? nil : message.name,
                    toolCalls: message.toolCalls.isEmpty ? nil : message.toolCalls.map {
                        ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
                    },
                    toolCallID: message.role == .tool ? message.toolCallID : nil)
        }
    }

    /// The `messages` array as JSON.
    public static func jsonData(_ messages: [ChatMessage]) throws -> Data {
        try ProviderJSON.data(self.messages(messages))
    }
}
