import Foundation
import Logging

/// A turn answered by ``ChatSession/respond(to:tokenLimit:reserving:policy:leaseDuration:logger:model:)``.
public struct TurnReply: Sendable, Hashable {
    /// The stored reply: an assistant message whose id is the user message's id plus
    /// ``ChatSession/replySuffix``, with `reply_to` in its metadata naming the user message.
    public var reply: ChatMessage
    /// True when this call ran the model and stored its reply; false when it returned the reply
    /// another call (a retry, a duplicate on another worker) stored.
    public var generated: Bool
    /// The window the model was shown, when this call ran it.
    public var window: ChatWindow?
}

extension ChatSession {
    /// Ends the id of every reply ``respond(to:tokenLimit:reserving:policy:leaseDuration:logger:model:)``
    /// stores (the user message's id, then this); a user message's id must not end with it.
    public static let replySuffix = ":reply"

    /// How far back, in entries from the newest, a turn looks for a reply already stored.
    public static let replySearchDepth = 256

    /// Answers one user turn exactly once across all workers: stores `message` (a retry stores
    /// it once), then, unless a reply to it is stored already, shows `model` the window and
    /// stores what it returns as the reply, bound to the turn.
    ///
    /// The model runs under a lease of the turn (a key beside the session's compaction lease,
    /// taken with `SET NX PX`), so of concurrent duplicates of one turn (a client retry, a double
    /// submit, a load balancer's retry, on any worker) only one calls it; the others wait, without
    /// holding a thread, for its reply and return it (`generated` false). If the holder fails
    /// (`model` throws, or the worker dies and the lease expires after `leaseDuration`), a
    /// waiting duplicate takes the lease and calls the model itself: a turn is answered at most
    /// once per stored reply, and a model call that outlives `leaseDuration` may be repeated.
    ///
    /// The reply's id is derived from the turn's (`message.id` + ``replySuffix``), and only an
    /// assistant message with that id whose `reply_to` names the turn counts as its reply: a
    /// client cannot forge one with a user message. A stored message with that id that is not
    /// the turn's reply is ``ChatMemoryError/Code/replyConflict`` (before the model is called,
    /// unless it was stored while the model ran). Duplicates are recognised while the turn's
    /// reply is among the newest ``replySearchDepth`` entries (or `idempotencyWindow + 2`, when
    /// more). Needs an `idempotencyWindow` of at least 1, and Redis or ``EmbeddedChatStorage``
    /// (``ChatMemoryError/Code/unsupportedByStorage`` otherwise).
    public func respond(
        to message: ChatMessage, tokenLimit: Int, reserving: Int = 0, policy: WindowPolicy = .modelSafe,
        leaseDuration: Duration = .seconds(120), logger: Logger? = nil,
        model: (ChatWindow) async throws -> ChatMessage
    ) async throws -> TurnReply {
        guard message.role == .user else { throw ChatMemoryError.invalidMessage("respond(to:) answers a user message (got \(message.role.rawValue))") }
        guard !message.id.hasSuffix(Self.replySuffix) else {
            throw ChatMemoryError.invalidMessage("a user message's id must not end with \"\(Self.replySuffix)\" (the ids of replies)")
        }
        guard leaseDuration >= .milliseconds(1) else {
            throw ChatMemoryError.invalidConfiguration("leaseDuration must be at least 1 ms (got \(leaseDuration))")
        }
        guard configuration.idempotencyWindow > 0 else {
            throw ChatMemoryError.invalidConfiguration("respond(to:) needs an idempotencyWindow of at least 1, so a duplicate stores the user's message once")
        }
        guard let storage = storage as? any CompactionStorage else {
            throw ChatMemoryError.unsupportedByStorage("a turn needs a lease: Redis or EmbeddedChatStorage (\(type(of: self.storage)) has none)")
        }
        let logger = callLogger(logger)
        try await append(message, logger: logger)
        let replyID = message.id + Self.replySuffix
        let lease = Self.leaseKey(of: key) + Array(":turn:".utf8) + Array(message.id.utf8)
        var pause: Duration = .milliseconds(10)
        while true {
            // Waiting costs one `SET NX` per try: the holder lets the lease go once the reply is
            // stored, and the next holder (a retry after the turn, too) finds it there.
            let token = Array(RandomUUID.string().utf8)
            if try await storage.acquireLease(lease, token: token, duration: leaseDuration, logger: logger) {
                do {
                    let answered = try await answer(message, replyID: replyID, tokenLimit: tokenLimit, reserving: reserving,
                                                    policy: policy, logger: logger, model: model)
                    await releaseLease(storage, lease, token: token, logger: logger)
                    return answered
                } catch {
                    await releaseLease(storage, lease, token: token, logger: logger)
                    throw error
                }
            }
            // Another call holds the turn: wait until it lets the lease go (its reply stored) or
            // the lease ends.
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(250))
        }
    }

    /// Runs the model for a turn whose lease this call holds, and stores its reply.
    private func answer(_ message: ChatMessage, replyID: String, tokenLimit: Int, reserving: Int, policy: WindowPolicy,
                        logger: Logger, model: (ChatWindow) async throws -> ChatMessage) async throws -> TurnReply {
        // A previous holder may have stored the reply before it let the lease go.
        if let stored = try await storedReply(replyID, to: message.id, logger: logger) {
            return TurnReply(reply: stored, generated: false, window: nil)
        }
        let window = try await self.window(tokenLimit: tokenLimit, reserving: reserving, policy: policy, logger: logger)
        var reply = try await model(window)
        guard reply.role == .assistant else {
            throw ChatMemoryError.invalidMessage("the model's reply must be an assistant message (got \(reply.role.rawValue))")
        }
        reply.id = replyID
        reply.metadata["reply_to"] = message.id
        guard try await append(reply, logger: logger).appended == 0 else {
            return TurnReply(reply: reply, generated: true, window: window)
        }
        // A holder whose lease had expired stored its reply first: that one is the turn's.
        guard let stored = try await storedReply(replyID, to: message.id, logger: logger) else {
            throw ChatMemoryError.unexpectedReply("the reply to \(message.id) counts as stored but is not among the session's newest entries (trimmed by maxMessages?)")
        }
        return TurnReply(reply: stored, generated: false, window: nil)
    }

    /// The turn's stored reply, if any among the newest ``replySearchDepth`` entries (or
    /// `idempotencyWindow + 2`, when more: as far as a retry of the reply is recognised).
    private func storedReply(_ replyID: String, to messageID: String, logger: Logger) async throws -> ChatMessage? {
        let depth = max(Self.replySearchDepth, configuration.idempotencyWindow + 2)
        guard let stored = try await recent(depth, logger: logger).last(where: { $0.id == replyID }) else { return nil }
        guard stored.role == .assistant, stored.metadata["reply_to"] == messageID else {
            throw ChatMemoryError.replyConflict(messageID: messageID)
        }
        return stored
    }
}
