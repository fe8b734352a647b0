import Foundation

/// One message of a chat session: a system prompt, a user turn, an assistant reply (possibly
/// calling tools), or a tool's result.
///
/// ```swift
/// let call = ChatMessage.ToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Oslo"}"#)
/// let history: [ChatMessage] = [
///     .system("You are terse."),
///     .user("Weather in Oslo?"),
///     .assistant(nil, toolCalls: [call]),
///     .tool(#"{"temp":3}"#, callID: "call_1"),
///     .assistant("3 °C."),
/// ]
/// ```
///
/// `createdAt` is kept to the millisecond (the precision of its JSON form), so a message equals
/// itself after a JSON round trip. See ``ChatMessage/jsonData()`` for the JSON form.
public struct ChatMessage: Sendable, Hashable, Identifiable {
    /// Who wrote a message. Its raw value is the JSON form (`"system"`, `"user"`, …).
    public enum Role: String, Codable, Sendable, CaseIterable {
        case system, user, assistant, tool
    }

    /// A tool call requested by an assistant message.
    ///
    /// ```swift
    /// let call = ChatMessage.ToolCall(id: "call_1", name: "search", arguments: #"{"q":"swift"}"#)
    /// ```
    public struct ToolCall: Codable, Sendable, Hashable {
        /// The call's id; the tool result answering it carries it as `toolCallID`.
        public var id: String
        /// The tool's name.
        public var name: String
        /// The arguments as JSON text, kept verbatim (never re-encoded).
        public var arguments: String

        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// A unique, non-empty id; a retried append skips a message whose id the session already
    /// holds among its newest messages (see ``ChatMemoryConfiguration/idempotencyWindow``).
    public var id: String
    public var role: Role
    /// The text; `nil` when the message has none (an assistant message that only calls tools,
    /// OpenAI's `"content": null`, LlamaIndex's `None`), which is not the same as `""`.
    public var content: String?
    /// An optional participant or tool name.
    public var name: String?
    /// The tool calls of an assistant message.
    public var toolCalls: [ToolCall]
    /// On a tool result: the id of the call it answers.
    public var toolCallID: String?
    /// Free-form string metadata, stored with the message.
    public var metadata: [String: String]
    /// The content as parts (texts, images, files), when it is more than one text; empty
    /// otherwise. When not empty, the encoders and token counts use the parts, and ``content``
    /// is what a reader from before parts sees: ``init(id:role:parts:name:metadata:createdAt:)``
    /// sets it to the text parts joined by newlines.
    public var parts: [ContentPart] = []
    /// When the message was created, kept to the millisecond.
    public var createdAt: Date {
        get { storedCreatedAt }
        set { storedCreatedAt = Self.millisecondDate(newValue) }
    }

    private var storedCreatedAt: Date

    public init(
        id: String = RandomUUID.string(),
        role: Role,
        content: String?,
        name: String? = nil,
        toolCalls: [ToolCall] = [],
        toolCallID: String? = nil,
        metadata: [String: String] = [:],
        createdAt: Date = Date()
    ) {
        self.id = id
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.metadata = metadata
        self.storedCreatedAt = Self.millisecondDate(createdAt)
    }

    /// A system message: `ChatMessage.system("You are terse.")`.
    public static func system(_ content: String) -> ChatMessage {
        ChatMessage(role: .system, content: content)
    }

    /// A user message: `ChatMessage.user("Hello")`.
    public static func user(_ content: String) -> ChatMessage {
        ChatMessage(role: .user, content: content)
    }

    /// An assistant message, optionally calling tools: `ChatMessage.assistant(nil, toolCalls: [call])`.
    public static func assistant(_ content: String?, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: content, toolCalls: toolCalls)
    }

    /// A tool result answering the call `callID`: `ChatMessage.tool("{}", callID: "call_1")`.
    public static func tool(_ content: String, callID: String) -> ChatMessage {
        ChatMessage(role: .tool, content: content, toolCallID: callID)
    }
}

extension ChatMessage {
    /// The UTF-8 bytes of all the message's text: id, role, content, name, tool calls, tool
    /// call id and metadata, and of its parts: their texts, URLs, names and media types, and
    /// inline bytes (what ``ChatMemoryConfiguration/maxMessageBytes`` limits).
    var textBytes: Int {
        var total = id.utf8.count + role.rawValue.utf8.count + (content?.utf8.count ?? 0)
        total += (name?.utf8.count ?? 0) + (toolCallID?.utf8.count ?? 0)
        for call in toolCalls { total += call.id.utf8.count + call.name.utf8.count + call.arguments.utf8.count }
        for (key, value) in metadata { total += key.utf8.count + value.utf8.count }
        for part in parts {
            switch part {
            case .text(let text): total += text.utf8.count
            case .image(let source, _, _, _): total += source.byteCount
            case .file(let source, let name): total += source.byteCount + (name?.utf8.count ?? 0)
            }
        }
        return total
    }

    /// Milliseconds since 1970-01-01T00:00:00Z, rounded to the nearest millisecond.
    static func unixMilliseconds(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        // Clamp far-off dates instead of trapping on conversion.
        return Int64(max(-9.0e15, min(9.0e15, ms)))
    }

    static func date(unixMilliseconds ms: Int64) -> Date {
        Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    static func millisecondDate(_ date: Date) -> Date {
        Self.date(unixMilliseconds: unixMilliseconds(date))
    }
}
