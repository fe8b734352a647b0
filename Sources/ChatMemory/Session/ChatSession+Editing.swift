import Logging

/// What a conditional append or a rewrite of a session's newest messages did.
public enum RewriteOutcome: Sendable, Hashable {
    /// Done, in one atomic step: `removed` entries newer than the anchor went, then the messages
    /// were appended as ``ChatSession/append(contentsOf:logger:)`` appends (`appended`).
    case applied(removed: Int, appended: AppendResult)
    /// Nothing changed: the session's newest message is no longer the one the caller saw
    /// (another message, or one with the same id stored again with other content). `newest` is
    /// its newest message now (`nil`: the session is empty, or its newest entry is not a
    /// message). After a retry of a call that went through, it is the last message that call
    /// appended.
    case newestChanged(newest: ChatMessage?)
    /// Nothing changed: no message with the anchor's id is among the newest
    /// ``ChatSession/rewriteSearchDepth`` entries.
    case anchorNotFound

    /// Whether the session was changed.
    public var isApplied: Bool {
        if case .applied = self { return true }
        return false
    }
}

extension ChatSession {
    /// How far back, in entries from the newest, ``truncate(after:ifNewestIs:logger:)`` and
    /// ``replace(after:ifNewestIs:with:logger:)`` look for the message to keep.
    public static let rewriteSearchDepth = 1_000

    /// Appends `message` only if the session's newest message is still `newest` (`nil`: only if
    /// the session is empty); see ``append(contentsOf:ifNewestIs:logger:)``.
    @discardableResult
    public func append(_ message: ChatMessage, ifNewestIs newest: ChatMessage?, logger: Logger? = nil) async throws -> RewriteOutcome {
        try await append(contentsOf: [message], ifNewestIs: newest, logger: logger)
    }

    /// Appends `messages` (oldest first) only if the session's newest message is still `newest`,
    /// the message as the caller read it (`nil`: only if the session is empty): a
    /// compare-and-append, so of two workers answering the same turn, only the first stores its
    /// reply; the other gets ``RewriteOutcome/newestChanged(newest:)`` with the reply that won.
    /// The newest message matches when it has the same id and the same content, fields and time
    /// as `newest` (the token count stored with it may differ); a message removed and stored
    /// again with the same id but other content does not match. The check and the append are
    /// one atomic step; the append itself is ``append(contentsOf:logger:)`` (ids the session
    /// holds are skipped, the cap and time to live apply). It is not retried after a lost
    /// connection: read the newest message and decide again.
    @discardableResult
    public func append(contentsOf messages: [ChatMessage], ifNewestIs newest: ChatMessage?, logger: Logger? = nil) async throws -> RewriteOutcome {
        try await rewrite(expecting: newest, anchor: .keepAll, with: messages, logger: logger)
    }

    /// Removes every message newer than `messageID`, only if the session's newest message is
    /// still `newest` (matched as ``append(contentsOf:ifNewestIs:logger:)`` matches it):
    /// "regenerate the last answer" (truncate after the user's message, then append the new
    /// answer), safe while other workers append (a message they appended after the caller looked
    /// makes this a ``RewriteOutcome/newestChanged(newest:)``, never lost).
    @discardableResult
    public func truncate(after messageID: String, ifNewestIs newest: ChatMessage, logger: Logger? = nil) async throws -> RewriteOutcome {
        try await replace(after: messageID, ifNewestIs: newest, with: [], logger: logger)
    }

    /// Replaces every message newer than `messageID` (`nil`: every message, a summary included)
    /// with `messages`, only if the session's newest message is still `newest`, in one atomic
    /// step: "edit my message and ask again" (replace after the message before it). The id index
    /// is rebuilt from what stays, so a removed message's id can be appended again; a summary
    /// older than `messageID` stays. Messages are checked as ``append(contentsOf:logger:)``
    /// checks them, before anything is written. The transcript archive is history and is left
    /// alone: a message compaction archived is no anchor (``RewriteOutcome/anchorNotFound``),
    /// and after replacing every message the archived ones still open the transcript
    /// (``clear(logger:)`` removes both).
    @discardableResult
    public func replace(after messageID: String?, ifNewestIs newest: ChatMessage, with messages: [ChatMessage],
                        logger: Logger? = nil) async throws -> RewriteOutcome {
        if let messageID, messageID.isEmpty { throw ChatMemoryError.invalidMessage("the message to keep needs a non-empty id") }
        let anchor = messageID.map { RewriteAnchor.after(idPrefix: StoredEntry.idPrefix(of: $0), searchDepth: Self.rewriteSearchDepth) }
        return try await rewrite(expecting: newest, anchor: anchor ?? .dropAll, with: messages, logger: logger)
    }

    private func rewrite(expecting newest: ChatMessage?, anchor: RewriteAnchor, with messages: [ChatMessage], logger: Logger?) async throws -> RewriteOutcome {
        let logger = callLogger(logger)
        if let newest, newest.id.isEmpty { throw ChatMemoryError.invalidMessage("the newest message's id must not be empty") }
        guard let storage = storage as? any EditingStorage else {
            throw ChatMemoryError.unsupportedByStorage("editing a session needs Redis or EmbeddedChatStorage (\(type(of: self.storage)) has no atomic rewrite)")
        }
        let entries = try encodedEntries(messages)
        let index = try conversationIndex()
        return try await tracing.span("chat.rewrite", session: id, attributes: ["chat.messages": messages.count]) { record in
            let result = try await storage.rewriteNewest(key, expectedNewest: newest.map(NewestEntry.init), anchor: anchor,
                                                         entries: entries, policy: configuration.retention, logger: logger)
            switch result {
            case .applied(let dropped, let appended):
                record("chat.removed", dropped)
                record("chat.appended", appended.appended)
                logger.trace("rewrote", metadata: ["chat.removed": "\(dropped)", "chat.appended": "\(appended.appended)"])
                try await touchConversation(index, logger: logger)
                if appended.appended > 0 { scheduleCompactionCheck() }
                return .applied(removed: dropped, appended: appended)
            case .newestChanged(let entry):
                return .newestChanged(newest: entry.flatMap(StoredEntry.decode)?.message)
            case .anchorNotFound:
                return .anchorNotFound
            }
        }
    }
}
