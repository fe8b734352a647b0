import Foundation

/// A window as the `system` and `messages` of an Anthropic Messages API request.
///
/// ```swift
/// let request = try AnthropicMessages.request(window.messages)
/// body["system"] = request.system; body["messages"] = request.messages   // or jsonData(_:)
/// ```
///
/// - System messages join, in order and separated by a blank line, into the top-level `system`
///   (the API has no system role in `messages`).
/// - A user message is a `text` block; an assistant message is a `text` block (when it has
///   text) followed by one `tool_use` block per tool call, its arguments parsed into `input`
///   (arguments that are not a JSON object throw ``ChatMemoryError/Code/invalidMessage``; empty
///   arguments are `{}`); a tool result is a `tool_result` block in a user message.
/// - Consecutive messages of one role become one message (so the results of one assistant turn
///   share the user message after it, as the API requires, before any text of that message: a
///   user message stored between a call and its result follows the result), and a message with
///   no text and no tool call is left out, as is a text that is whitespace only (the API refuses
///   empty content and blank text blocks).
/// - A user message with ``ChatMessage/parts`` sends them as blocks: `text` (empty ones left
///   out), `image` and `document` (a file), each with a `source` of `{"type":"base64",
///   "media_type","data"}` or `{"type":"url","url"}`; a file's name is the document's `title`.
///   Images and files go in user messages only (``ChatMemoryError/Code/invalidMessage`` elsewhere).
/// - `name`, `metadata`, ids and times stay with the memory.
///
/// The encoder keeps the order it is given; ``ruleViolations(_:)`` says which of the API's
/// ordering rules a request breaks (a window that starts with an assistant message, a tool call
/// whose result the window cut off).
public enum AnthropicMessages {
    /// The request's conversation: `system` (absent when `nil`) and `messages`.
    public struct Request: Sendable, Hashable, Encodable {
        public var system: String?
        public var messages: [Message]
    }

    /// One message: `role` is `user` or `assistant`.
    public struct Message: Sendable, Hashable, Encodable {
        public var role: String
        public var content: [Block]
    }

    /// One content block.
    public enum Block: Sendable, Hashable, Encodable {
        case text(String)
        case toolUse(id: String, name: String, input: [String: JSONValue])
        case toolResult(toolUseID: String, content: String)
        case image(MediaSourceBlock)
        case document(MediaSourceBlock, title: String?)

        enum CodingKeys: String, CodingKey {
            case type, text, id, name, input, content, source, title
            case toolUseID = "tool_use_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .toolUse(let id, let name, let input):
                try container.encode("tool_use", forKey: .type)
                try container.encode(id, forKey: .id)
                try container.encode(name, forKey: .name)
                try container.encode(input, forKey: .input)
            case .toolResult(let toolUseID, let content):
                try container.encode("tool_result", forKey: .type)
                try container.encode(toolUseID, forKey: .toolUseID)
                try container.encode(content, forKey: .content)
            case .image(let source):
                try container.encode("image", forKey: .type)
                try container.encode(source, forKey: .source)
            case .document(let source, let title):
                try container.encode("document", forKey: .type)
                try container.encode(source, forKey: .source)
                try container.encodeIfPresent(title, forKey: .title)
            }
        }
    }

    /// An image's or document's `source`: inline base64 bytes, or a URL.
    public enum MediaSourceBlock: Sendable, Hashable, Encodable {
        case base64(mediaType: String, data: String)
        case url(String)

        enum CodingKeys: String, CodingKey {
            case type, data, url
            case mediaType = "media_type"
        }

        init(_ source: MediaSource) {
            switch source {
            case .url(let url): self = .url(url)
            case .bytes(let bytes, let mediaType): self = .base64(mediaType: mediaType, data: Data(bytes).base64EncodedString())
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .base64(let mediaType, let data):
                try container.encode("base64", forKey: .type)
                try container.encode(mediaType, forKey: .mediaType)
                try container.encode(data, forKey: .data)
            case .url(let url):
                try container.encode("url", forKey: .type)
                try container.encode(url, forKey: .url)
            }
        }
    }

    /// The request's `system` and `messages` for `messages`, in order.
    public static func request(_ messages: [ChatMessage]) throws(ChatMemoryError) -> Request {
        var system: [String] = []
        var encoded: [Message] = []
        for message in messages {
            var role = "user"
            var blocks: [Block] = []
            if ProviderParts.sendsParts(message) {
                blocks = message.parts.compactMap { part in
                    switch part {
                    case .text(let text): ProviderParts.isBlank(text) ? nil : .text(text)
                    case .image(let source, _, _, _): .image(MediaSourceBlock(source))
                    case .file(let source, let name): .document(MediaSourceBlock(source), title: name)
                    }
                }
                if !blocks.isEmpty { append(blocks, role: role, isResult: false, to: &encoded) }
                continue
            }
            _ = try ProviderParts.text(of: message, api: "Anthropic's Messages API")   // refuses media here
            let text = ProviderParts.sendableText(of: message)
            switch message.role {
            case .system:
                if let text { system.append(text) }
                continue
            case .user:
                if let text { blocks.append(.text(text)) }
            case .assistant:
                role = "assistant"
                if let text { blocks.append(.text(text)) }
                for call in message.toolCalls {
                    blocks.append(.toolUse(id: call.id, name: call.name, input: try input(of: call, in: message)))
                }
            case .tool:
                blocks.append(.toolResult(toolUseID: message.toolCallID ?? "", content: try ProviderParts.text(of: message, api: "") ?? ""))
            }
            guard !blocks.isEmpty else { continue }
            append(blocks, role: role, isResult: message.role == .tool, to: &encoded)
        }
        return Request(system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: encoded)
    }

    /// Adds a message's blocks: to the last message when it has the same role, else as a new one.
    private static func append(_ blocks: [Block], role: String, isResult: Bool, to encoded: inout [Message]) {
        guard encoded.last?.role == role else {
            encoded.append(Message(role: role, content: blocks))
            return
        }
        var content = encoded[encoded.count - 1].content
        if isResult {
            // Results go before the message's other blocks (a user's words sent while the
            // tools ran come after them), as the API requires.
            content.insert(contentsOf: blocks, at: content.firstIndex { $0.answeredID == nil } ?? content.endIndex)
        } else {
            content += blocks
        }
        encoded[encoded.count - 1].content = content
    }

    /// The request's `system` and `messages` as one JSON object.
    public static func jsonData(_ messages: [ChatMessage]) throws -> Data {
        try ProviderJSON.data(request(messages))
    }

    /// A tool call's arguments as the object `tool_use.input` must be.
    private static func input(of call: ChatMessage.ToolCall, in message: ChatMessage) throws(ChatMemoryError) -> [String: JSONValue] {
        if call.arguments.allSatisfy(\.isWhitespace) { return [:] }
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(call.arguments.utf8)) else {
            throw .invalidMessage("tool call \(call.id) of message \(message.id): its arguments are not a JSON object, "
                + "which Anthropic's tool_use input must be")
        }
        return object
    }

    /// The API's ordering rules that `request` breaks, one sentence each (empty when it breaks none):
    /// 1. the first message is a user message;
    /// 2. roles alternate (no two consecutive messages of one role);
    /// 3. no message is empty, and no text block is empty or whitespace only;
    /// 4. every `tool_use` is answered by a `tool_result` with its id in the very next message;
    /// 5. in a message, `tool_result` blocks come before any other block;
    /// 6. every `tool_result` answers a `tool_use` of the message just before it;
    /// 7. `tool_use` ids are unique in the request.
    public static func ruleViolations(_ request: Request) -> [String] {
        var broken: [String] = []
        if let first = request.messages.first, first.role != "user" { broken.append("messages[0] is not a user message") }
        var seen = Set<String>()
        for (index, message) in request.messages.enumerated() {
            if index > 0, request.messages[index - 1].role == message.role {
                broken.append("messages[\(index)] has the role of the message before it")
            }
            if message.content.isEmpty { broken.append("messages[\(index)] is empty") }
            var othersSeen = false
            let asked = index > 0 ? Set(request.messages[index - 1].content.compactMap(\.toolUseID)) : []
            for block in message.content {
                switch block {
                case .text(let text):
                    if ProviderParts.isBlank(text) { broken.append("messages[\(index)] has an empty text block") }
                    othersSeen = true
                case .toolUse(let id, _, _):
                    if !seen.insert(id).inserted { broken.append("tool_use id \(id) is used twice") }
                    let next = index + 1 < request.messages.count ? request.messages[index + 1].content : []
                    if !next.contains(where: { $0.answeredID == id }) {
                        broken.append("messages[\(index)]: tool_use \(id) has no tool_result in the next message")
                    }
                    othersSeen = true
                case .image, .document:
                    othersSeen = true
                case .toolResult(let id, _):
                    if othersSeen { broken.append("messages[\(index)]: tool_result \(id) comes after another block") }
                    if !asked.contains(id) { broken.append("messages[\(index)]: tool_result \(id) answers no tool_use of the message before") }
                }
            }
        }
        return broken
    }
}

extension AnthropicMessages.Block {
    var toolUseID: String? { if case .toolUse(let id, _, _) = self { id } else { nil } }
    var answeredID: String? { if case .toolResult(let id, _) = self { id } else { nil } }
}
