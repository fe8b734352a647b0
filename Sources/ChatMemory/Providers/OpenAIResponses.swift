import Foundation

/// A window as the `input` items of an OpenAI Responses API request.
///
/// ```swift
/// let input = try OpenAIResponses.jsonData(window.messages) // the "input" array
/// ```
///
/// A system, user or assistant message with text is a `{"type":"message","role","content"}`
/// item (content `""` when it has none and calls no tool); each tool call of an assistant
/// message follows it as `{"type":"function_call","call_id","name","arguments"}`; a tool result
/// is `{"type":"function_call_output","call_id","output"}`. Input items carry no participant
/// name: `name` is left out, as are `metadata`, ids and times.
public enum OpenAIResponses {
    /// One item of the `input` array.
    public enum InputItem: Sendable, Hashable, Encodable {
        case message(role: String, content: String)
        case functionCall(callID: String, name: String, arguments: String)
        case functionCallOutput(callID: String, output: String)

        enum CodingKeys: String, CodingKey {
            case type, role, content, name, arguments, output
            case callID = "call_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .message(let role, let content):
                try container.encode("message", forKey: .type)
                try container.encode(role, forKey: .role)
                try container.encode(content, forKey: .content)
            case .functionCall(let callID, let name, let arguments):
                try container.encode("function_call", forKey: .type)
                try container.encode(callID, forKey: .callID)
                try container.encode(name, forKey: .name)
                try container.encode(arguments, forKey: .arguments)
            case .functionCallOutput(let callID, let output):
                try container.encode("function_call_output", forKey: .type)
                try container.encode(callID, forKey: .callID)
                try container.encode(output, forKey: .output)
            }
        }
    }

    /// The input items, in order.
    public static func input(_ messages: [ChatMessage]) -> [InputItem] {
        var items: [InputItem] = []
        items.reserveCapacity(messages.count)
        for message in messages {
            switch message.role {
            case .tool:
                items.append(.functionCallOutput(callID: message.toolCallID ?? "", output: message.content ?? ""))
            case .system, .user, .assistant:
                if message.content?.isEmpty == false || message.toolCalls.isEmpty {
                    items.append(.message(role: message.role.rawValue, content: message.content ?? ""))
                }
                for call in message.toolCalls {
                    items.append(.functionCall(callID: call.id, name: call.name, arguments: call.arguments))
                }
            }
        }
        return items
    }

    /// The `input` array as JSON.
    public static func jsonData(_ messages: [ChatMessage]) throws -> Data {
        try ProviderJSON.data(input(messages))
    }
}
