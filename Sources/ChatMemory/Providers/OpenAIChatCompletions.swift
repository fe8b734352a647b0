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
///
/// A user message with ``ChatMessage/parts`` sends them as a content array: `{"type":"text"}`,
/// `{"type":"image_url","image_url":{"url","detail"}}` (inline bytes as a `data:` URL) and
/// `{"type":"file","file":{"file_data","filename"}}` (a file without a name is `file.<subtype>`:
/// the API requires one). Chat Completions takes files as inline
/// bytes only, and images and files in user messages only: anything else is
/// ``ChatMemoryError/Code/invalidMessage``. Other messages with text parts send their text.
public enum OpenAIChatCompletions {
    /// One message of the `messages` array.
    public struct Message: Sendable, Hashable, Encodable {
        public var role: String
        public var content: Content
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

    /// A message's `content`: one text (`null` when none), or an array of parts.
    public enum Content: Sendable, Hashable, Encodable {
        case text(String?)
        case parts([Part])

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .parts(let parts): try container.encode(parts)
            }
        }
    }

    /// One part of a content array.
    public enum Part: Sendable, Hashable, Encodable {
        case text(String)
        case imageURL(url: String, detail: String?)
        case file(data: String, filename: String?)

        enum CodingKeys: String, CodingKey {
            case type, text, url, detail, filename
            case imageURL = "image_url"
            case file
            case fileData = "file_data"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .imageURL(let url, let detail):
                try container.encode("image_url", forKey: .type)
                var image = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .imageURL)
                try image.encode(url, forKey: .url)
                try image.encodeIfPresent(detail, forKey: .detail)
            case .file(let data, let filename):
                try container.encode("file", forKey: .type)
                var file = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .file)
                try file.encode(data, forKey: .fileData)
                try file.encodeIfPresent(filename, forKey: .filename)
            }
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
    public static func messages(_ messages: [ChatMessage]) throws(ChatMemoryError) -> [Message] {
        var encoded: [Message] = []
        encoded.reserveCapacity(messages.count)
        for message in messages {
            let content: Content = ProviderParts.sendsParts(message)
                ? .parts(try message.parts.map { part throws(ChatMemoryError) in try Self.part(part, of: message) })
                : .text(try ProviderParts.text(of: message, api: "Chat Completions"))
            encoded.append(Message(role: message.role.rawValue, content: content, name: message.role == .tool ? nil : message.name,
                                   toolCalls: message.toolCalls.isEmpty ? nil : message.toolCalls.map {
                                       ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
                                   },
                                   toolCallID: message.role == .tool ? message.toolCallID : nil))
        }
        return encoded
    }

    private static func part(_ part: ContentPart, of message: ChatMessage) throws(ChatMemoryError) -> Part {
        switch part {
        case .text(let text): return .text(text)
        case .image(let source, let detail, _, _): return .imageURL(url: source.url, detail: detail?.rawValue)
        case .file(.bytes(let bytes, let mediaType), let name):
            let source = MediaSource.bytes(bytes, mediaType: mediaType)
            return .file(data: source.url, filename: name ?? source.defaultFileName())
        case .file(.url, _):
            throw .invalidMessage("message \(message.id): Chat Completions takes files as inline bytes, not by URL "
                + "(the Responses and Anthropic encoders take URLs)")
        }
    }

    /// The `messages` array as JSON.
    public static func jsonData(_ messages: [ChatMessage]) throws -> Data {
        try ProviderJSON.data(self.messages(messages))
    }
}
