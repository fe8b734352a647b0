/// A message with its token count, as the store keeps it (the count made with the store's
/// ``TokenCounter`` and the message formula ``TokenCounter/count(_:)-(ChatMessage)``).
///
/// ```swift
/// let counted = CountedMessage(message: .user("Hi"), counter: ApproximateTokenCounter())
/// ```
public struct CountedMessage: Sendable, Hashable {
    public var message: ChatMessage
    /// The stored or computed per-message count. Negative values are treated as 0.
    public var tokens: Int

    public init(message: ChatMessage, tokens: Int) {
        self.message = message
        self.tokens = tokens
    }

    /// Counts `message` with `counter`'s message formula.
    public init(message: ChatMessage, counter: any TokenCounter) {
        self.init(message: message, tokens: counter.count(message))
    }
}

/// How a token-limited window is cut from a history.
///
/// ```swift
/// var builder = try WindowBuilder(policy: .modelSafe, tokenLimit: 3000, reserving: 200,
///                                 counter: ApproximateTokenCounter())
/// ```
public enum WindowPolicy: Sendable, Hashable {
    /// The default. Sums the per-message counts (tool-call payloads included) plus `reserving`;
    /// takes whole units newest first (a message, or an assistant message with tool calls
    /// together with all its tool results); stops at the first unit that doesn't fit. The window
    /// never starts with a tool result and never separates a tool call from its results. A newest
    /// unit larger than the whole budget is an error (``ChatMemoryError/messageExceedsBudget(messageID:tokens:budget:)``).
    case modelSafe
    /// ``modelSafe`` (the same budget, units and errors), cut so that
    /// ``AnthropicMessages/request(_:)`` of every window breaks none of the rules
    /// ``AnthropicMessages/ruleViolations(_:)`` checks:
    /// - a window starts where its first message sent is a user message with text, an image or
    ///   a file (a system message before it comes along, into `system`), so a turn is a user
    ///   message and all that answers it;
    /// - an assistant message with a tool call that the next message sent does not answer (a
    ///   call whose result was never stored, or came only after another assistant message) and
    ///   the older of two calls with one id are never in a window: windows start after them;
    /// - when the session ends in a tool call that no result answers yet, there is no window to
    ///   send: ``ChatMemoryError/Code/toolCallUnanswered``.
    ///
    /// Tool-call arguments are not checked: ``AnthropicMessages/request(_:)`` refuses those that
    /// are not a JSON object.
    case anthropicSafe
    /// Reproduces LlamaIndex `ChatMemoryBuffer.get(initial_token_count: reserving)` of
    /// llama-index-core 0.14.16 and later (through 0.14.25): the count is the builder's counter over
    /// the window's contents joined by single spaces (an empty content counts as the text
    /// `"None"`), roles and tool calls uncounted; drops from the oldest end, then keeps dropping
    /// while the oldest left is a tool or assistant message; when nothing fits, returns the
    /// newest message alone, even if it is over the limit (never an error, never empty).
    case llamaIndex
}

/// A token-limited window of a session's history.
///
/// ```swift
/// let window = try builder.finish(historyExhausted: true)
/// for message in window.messages { print(message.role, message.content) }   // oldest first
/// ```
public struct ChatWindow: Sendable, Hashable {
    /// The window's messages, oldest first.
    public var messages: [ChatMessage]
    /// The window's tokens, without `reserved`: under ``WindowPolicy/modelSafe`` the sum of the
    /// per-message counts, under ``WindowPolicy/llamaIndex`` the count of the joined contents.
    /// Under `.llamaIndex` it can exceed `tokenLimit - reserved` (newest message returned alone).
    public var tokenCount: Int
    public var tokenLimit: Int
    /// The tokens reserved for the rest of the prompt (e.g. a system prompt).
    public var reserved: Int
    /// True when nothing older was dropped: the window is the whole history.
    public var isWholeHistory: Bool
    /// Entries in the session that were not readable messages (foreign or broken) and were
    /// skipped while reading this window.
    public var skippedEntries = 0

    public init(messages: [ChatMessage], tokenCount: Int, tokenLimit: Int, reserved: Int, isWholeHistory: Bool) {
        self.messages = messages
        self.tokenCount = tokenCount
        self.tokenLimit = tokenLimit
        self.reserved = reserved
        self.isWholeHistory = isWholeHistory
    }
}
