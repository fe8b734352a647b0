/// An error thrown by chat memory: a ``code`` to compare or switch over, the details that code
/// carries, and a readable ``description``.
///
/// ```swift
/// do {
///     let window = try await chat.window(tokenLimit: 3000)
/// } catch let error as ChatMemoryError where error.code == .messageExceedsBudget {
///     print("message \(error.messageID ?? "") needs \(error.tokens ?? 0) tokens, only \(error.budget ?? 0) available")
/// }
/// ```
///
/// Later versions may add codes: switch over ``code`` with a `default:` branch.
public struct ChatMemoryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable {
            case invalidTokenBudget, messageExceedsBudget, invalidSessionID, wrongKeyType
            case messageTooLarge, invalidMessage, invalidConfiguration, unexpectedReply
            case replicationIncomplete, unsupportedByStorage, unsupportedServer, replyConflict
            case toolCallUnanswered
        }

        fileprivate let base: Base

        private init(_ base: Base) { self.base = base }

        /// The token budget is unusable: `tokenLimit < 1`, `reserving < 0` or `reserving > tokenLimit`
        /// (details: ``ChatMemoryError/tokenLimit``, ``ChatMemoryError/reserving``).
        public static let invalidTokenBudget = Code(.invalidTokenBudget)
        /// The newest unit of the history (a message, or an assistant tool call with its results)
        /// needs more than the whole budget (`tokenLimit - reserving`), so no window can be built
        /// (details: ``ChatMemoryError/messageID`` of the unit's first message, the unit's
        /// ``ChatMemoryError/tokens``, the ``ChatMemoryError/budget``).
        public static let messageExceedsBudget = Code(.messageExceedsBudget)
        /// The session id is empty or longer than ``SessionID/maxLength`` bytes
        /// (``ChatMemoryError/reason`` says which).
        public static let invalidSessionID = Code(.invalidSessionID)
        /// The session's key exists but is not a list: someone else wrote it
        /// (details: ``ChatMemoryError/key``).
        public static let wrongKeyType = Code(.wrongKeyType)
        /// A message is larger than ``ChatMemoryConfiguration/maxMessageBytes`` (UTF-8 bytes of all
        /// its text); nothing was written (details: ``ChatMemoryError/messageID``,
        /// ``ChatMemoryError/bytes``, ``ChatMemoryError/limit``).
        public static let messageTooLarge = Code(.messageTooLarge)
        /// A message is not valid, for example it has an empty id (``ChatMemoryError/reason`` says why).
        public static let invalidMessage = Code(.invalidMessage)
        /// A setting or argument is out of range (``ChatMemoryError/reason`` says which).
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The store answered in a form the chat memory does not expect (``ChatMemoryError/reason``).
        public static let unexpectedReply = Code(.unexpectedReply)
        /// An append with ``ChatMemoryConfiguration/replication`` set was stored on the primary, but
        /// fewer replicas than required confirmed it in time, so it may be lost if the primary
        /// fails now (details: ``ChatMemoryError/acknowledgedReplicas``,
        /// ``ChatMemoryError/requiredReplicas``). Retrying the append is safe: it stores nothing twice.
        public static let replicationIncomplete = Code(.replicationIncomplete)
        /// The session's ``ChatStorage`` cannot do what was asked: a backend of your own cannot be
        /// compacted (``ChatMemoryError/reason`` says what); nothing was written.
        public static let unsupportedByStorage = Code(.unsupportedByStorage)
        /// The Redis server lacks a command the chat memory needs: it is older than the minimum
        /// (Redis 6.0.6, or any Valkey). Checked before the first write of each
        /// ``RedisChatMemory``; nothing was written (``ChatMemoryError/reason`` names what is
        /// missing and the minimum version).
        public static let unsupportedServer = Code(.unsupportedServer)
        /// ``ChatSession/respond(to:tokenLimit:reserving:policy:leaseDuration:logger:model:)``
        /// found a message with the turn's reply id that is not the turn's reply (not an assistant
        /// message, or its `reply_to` names another message): someone else wrote it. Nothing was
        /// sent to the model (``ChatMemoryError/messageID`` names the user message).
        public static let replyConflict = Code(.replyConflict)
        /// A ``WindowPolicy/anthropicSafe`` window was asked for while the session ends in an
        /// assistant tool call that no result answers yet (its tools still running, or their
        /// results never stored): no window of it can be sent (details:
        /// ``ChatMemoryError/messageID`` of the assistant message, ``ChatMemoryError/toolCallID``).
        /// Append the results (an error result too) and read the window again.
        public static let toolCallUnanswered = Code(.toolCallUnanswered)

        /// The code's name, e.g. `messageTooLarge`.
        public var description: String { base.rawValue }
    }

    /// What went wrong.
    public let code: Code
    /// Why, in words, for the codes that carry text (an invalid session id, message or setting,
    /// an unexpected reply); `nil` otherwise.
    public let reason: String?
    /// The message concerned (``Code/messageExceedsBudget``, ``Code/messageTooLarge``).
    public let messageID: String?
    /// The tokens the message or unit needs (``Code/messageExceedsBudget``).
    public let tokens: Int?
    /// The whole token budget, `tokenLimit - reserving` (``Code/messageExceedsBudget``).
    public let budget: Int?
    /// The size of the message's text in UTF-8 bytes (``Code/messageTooLarge``).
    public let bytes: Int?
    /// The largest size allowed, in bytes (``Code/messageTooLarge``).
    public let limit: Int?
    /// The token limit asked for (``Code/invalidTokenBudget``).
    public let tokenLimit: Int?
    /// The tokens asked to be reserved (``Code/invalidTokenBudget``).
    public let reserving: Int?
    /// The storage key concerned, as text (``Code/wrongKeyType``).
    public let key: String?
    /// The replicas that confirmed an append (``Code/replicationIncomplete``).
    public let acknowledgedReplicas: Int?
    /// The replicas an append had to reach (``Code/replicationIncomplete``).
    public let requiredReplicas: Int?
    /// The tool call concerned (``Code/toolCallUnanswered``).
    public let toolCallID: String?

    private init(_ code: Code, reason: String? = nil, messageID: String? = nil, tokens: Int? = nil, budget: Int? = nil,
                 bytes: Int? = nil, limit: Int? = nil, tokenLimit: Int? = nil, reserving: Int? = nil, key: String? = nil,
                 acknowledgedReplicas: Int? = nil, requiredReplicas: Int? = nil, toolCallID: String? = nil) {
        self.code = code
        self.reason = reason
        self.messageID = messageID
        self.tokens = tokens
        self.budget = budget
        self.bytes = bytes
        self.limit = limit
        self.tokenLimit = tokenLimit
        self.reserving = reserving
        self.key = key
        self.acknowledgedReplicas = acknowledgedReplicas
        self.requiredReplicas = requiredReplicas
        self.toolCallID = toolCallID
    }

    /// The token budget is unusable.
    public static func invalidTokenBudget(tokenLimit: Int, reserving: Int) -> ChatMemoryError {
        ChatMemoryError(.invalidTokenBudget, tokenLimit: tokenLimit, reserving: reserving)
    }

    /// The newest unit of the history needs more than the whole budget.
    public static func messageExceedsBudget(messageID: String, tokens: Int, budget: Int) -> ChatMemoryError {
        ChatMemoryError(.messageExceedsBudget, messageID: messageID, tokens: tokens, budget: budget)
    }

    /// The session id is not valid.
    public static func invalidSessionID(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.invalidSessionID, reason: reason)
    }

    /// The key at a session's name is not a list.
    public static func wrongKeyType(key: String) -> ChatMemoryError {
        ChatMemoryError(.wrongKeyType, key: key)
    }

    /// A message is larger than the configured limit.
    public static func messageTooLarge(messageID: String, bytes: Int, limit: Int) -> ChatMemoryError {
        ChatMemoryError(.messageTooLarge, messageID: messageID, bytes: bytes, limit: limit)
    }

    /// A message is not valid.
    public static func invalidMessage(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.invalidMessage, reason: reason)
    }

    /// A setting or argument is out of range.
    public static func invalidConfiguration(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.invalidConfiguration, reason: reason)
    }

    /// The store answered in a form the chat memory does not expect.
    public static func unexpectedReply(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.unexpectedReply, reason: reason)
    }

    /// An append reached fewer replicas than ``ChatMemoryConfiguration/replication`` requires.
    public static func replicationIncomplete(acknowledged: Int, required: Int) -> ChatMemoryError {
        ChatMemoryError(.replicationIncomplete, acknowledgedReplicas: acknowledged, requiredReplicas: required)
    }

    /// The session's storage cannot do what was asked.
    public static func unsupportedByStorage(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.unsupportedByStorage, reason: reason)
    }

    /// The Redis server is too old for the chat memory.
    public static func unsupportedServer(_ reason: String) -> ChatMemoryError {
        ChatMemoryError(.unsupportedServer, reason: reason)
    }

    /// A message holds the reply id of a turn without being its reply.
    public static func replyConflict(messageID: String) -> ChatMemoryError {
        ChatMemoryError(.replyConflict, messageID: messageID)
    }

    /// The session ends in a tool call that no result answers yet.
    public static func toolCallUnanswered(messageID: String, toolCallID: String) -> ChatMemoryError {
        ChatMemoryError(.toolCallUnanswered, messageID: messageID, toolCallID: toolCallID)
    }

    /// A readable sentence: what went wrong, with its details.
    public var description: String {
        switch code.base {
        case .invalidTokenBudget:
            "invalid token budget: tokenLimit must be at least 1 and reserving from 0 to tokenLimit "
                + "(got tokenLimit \(tokenLimit.map(String.init) ?? "?"), reserving \(reserving.map(String.init) ?? "?"))"
        case .messageExceedsBudget:
            "message \(messageID ?? "?") needs \(tokens.map(String.init) ?? "?") tokens, "
                + "more than the whole budget of \(budget.map(String.init) ?? "?")"
        case .wrongKeyType:
            "the key \(key ?? "?") holds another type of value, not a chat session list"
        case .messageTooLarge:
            "message \(messageID ?? "?") has \(bytes.map(String.init) ?? "?") bytes, "
                + "more than the limit of \(limit.map(String.init) ?? "?")"
        case .invalidSessionID:
            "invalid session id: \(reason ?? "")"
        case .invalidMessage:
            "invalid message: \(reason ?? "")"
        case .invalidConfiguration:
            "invalid configuration: \(reason ?? "")"
        case .unexpectedReply:
            "unexpected reply: \(reason ?? "")"
        case .unsupportedByStorage:
            "not supported by this storage: \(reason ?? "")"
        case .replyConflict:
            "the reply id of message \(messageID ?? "?") holds a message that is not its reply"
        case .toolCallUnanswered:
            "tool call \(toolCallID ?? "?") of message \(messageID ?? "?") has no result yet: append its result before sending the window"
        case .unsupportedServer:
            "the Redis server is too old for chat memory: \(reason ?? "")"
        case .replicationIncomplete:
            "stored on the primary, but only \(acknowledgedReplicas.map(String.init) ?? "?") of "
                + "\(requiredReplicas.map(String.init) ?? "?") replicas confirmed it in time: it may be lost in a failover (retrying is safe)"
        }
    }
}
