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
///
/// A user message with ``ChatMessage/parts`` sends them as its content array:
/// `{"type":"input_text","text"}`, `{"type":"input_image","image_url","detail"}` (inline bytes
/// as a `data:` URL; `detail` `auto` unless given) and `{"type":"input_file","file_data" or
/// "file_url","filename"}`. Images and files go in user messages only
/// (``ChatMemoryError/Code/invalidMessage`` elsewhere); other messages send their text parts' text.
public enum OpenAIResponses {
    /// One item of the `input` array.
    public enum InputItem: Sendable, Hashable, Encodable {
        case message(role: String, content: String)
        /// A user message sent as parts.
        case parts(role: String, content: [Part])
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
            case .parts(let role, let content):
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

    /// One part of a user message's content.
    public enum Part: Sendable, Hashable, Encodable {
        case inputText(String)
        case inputImage(imageURL: String, detail: String)
        case inputFile(data: String?, url: String?, filename: String?)

        enum CodingKeys: String, CodingKey {
            case type, text, detail, filename
            case imageURL = "image_url"
            case fileData = "file_data"
            case fileURL = "file_url"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .inputText(let text):
                try container.encode("input_text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .inputImage(let url, let detail):
                try container.encode("input_image", forKey: .type)
                try container.encode(url, forKey: .imageURL)
                try container.encode(detail, forKey: .detail)
            case .inputFile(let data, let url, let filename):
                try container.encode("input_file", forKey: .type)
                try container.encodeIfPresent(data, forKey: .fileData)
                try container.encodeIfPresent(url, forKey: .fileURL)
                try container.encodeIfPresent(filename, forKey: .filename)
            }
        }
    }

    /// The input items, in order.
    public static func input(_ messages: [ChatMessage]) throws(ChatMemoryError) -> [InputItem] {
        var items: [InputItem] = []
        items.reserveCapacity(messages.count)
        for message in messages {
            if ProviderParts.sendsParts(message) {
                items.append(.parts(role: message.role.rawValue, content: message.parts.map(Self.part)))
                continue
            }
            let text = try ProviderParts.text(of: message, api: "the Responses API")
            switch message.role {
            case .tool:
                items.append(.functionCallOutput(callID: message.toolCallID ?? "", output: text ?? ""))
            case .system, .user, .assistant:
                if text?.isEmpty == false || message.toolCalls.isEmpty {
                    items.append(.message(role: message.role.rawValue, content: text ?? ""))
                }
                for call in message.toolCalls {
                    items.append(.functionCall(callID: call.id, name: call.name, arguments: call.arguments))
                }
            }
        }
        return items
    }

    private static func part(_ part: ContentPart) -> Part {
        switch part {
        case .text(let text): .inputText(text)
        case .image(let source, let detail, _, _): .inputImage(imageURL: source.url, detail: (detail ?? .auto).rawValue)
        case .file(.url(let url), let name): .inputFile(data: nil, url: url, filename: name)
        case .file(let source, let name): .inputFile(data: source.url, url: nil, filename: name ?? source.defaultFileName())
        }
    }

    /// The `input` array as JSON.
    public static func jsonData(_ messages: [ChatMessage]) throws -> Data {
        try ProviderJSON.data(input(messages))
    }
}
