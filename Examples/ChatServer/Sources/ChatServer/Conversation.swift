import ChatMemory
import Foundation

/// One turn of a conversation, independent of HTTP: store the user's message, show the model the
/// window, store its reply. Every step goes through the shared store, so any worker can take any
/// turn; a retry with the same message id never adds a second turn.
///
/// A reply is bound to its turn: its id is the user message's id plus ``replySuffix`` (a suffix
/// clients may not use), and a retry replays it only if it is an assistant message whose
/// `reply_to` names that user message.
struct Conversation: Sendable {
    let memory: RedisChatMemory
    /// The store's counter, to refuse a message the window can't hold before storing it.
    let counter: any TokenCounter
    let model: any ChatModel
    let worker: String
    /// The window the model is shown: the newest messages within this many tokens.
    let tokenLimit: Int

    /// Ends the id of every reply the server writes; client message ids must not end with it.
    static let replySuffix = ":reply"

    /// The reply id of a turn holds a message the server did not write for that turn.
    struct ReplyIDTaken: Error {
        var messageID: String
    }

    struct Turn {
        var user: ChatMessage
        var assistant: ChatMessage
        var remembered: Int
        var windowTokens: Int
        var replayed: Bool
    }

    func take(session id: SessionID, content: String, messageID: String?) async throws -> Turn {
        let session = memory.session(id)
        let user = ChatMessage(id: messageID ?? UUID().uuidString, role: .user, content: content, metadata: ["worker": worker])
        let tokens = counter.count(user)
        guard tokens <= tokenLimit else {
            throw ChatMemoryError.messageExceedsBudget(messageID: user.id, tokens: tokens, budget: tokenLimit)
        }
        let appended = try await session.append(user)
        if appended.duplicates > 0, let earlier = try await answeredTurn(of: user.id, in: session) {
            return earlier
        }

        let window = try await session.window(tokenLimit: tokenLimit)
        let shown = window.messages.last?.id == user.id ? window.messages : window.messages + [user]
        let reply = try await model.reply(to: shown)
        let assistant = ChatMessage(id: Self.replyID(to: user.id), role: .assistant, content: reply,
                                    metadata: ["worker": worker, "reply_to": user.id, "remembered": "\(shown.count - 1)"])
        let stored = try await session.append(assistant)
        if stored.duplicates > 0, let earlier = try await answeredTurn(of: user.id, in: session) {
            return earlier   // a concurrent retry answered first: return its reply, not ours
        }
        return Turn(user: user, assistant: assistant, remembered: shown.count - 1, windowTokens: window.tokenCount, replayed: false)
    }

    /// The reply's id is derived from the user's message id, so a retry finds it.
    static func replyID(to userMessageID: String) -> String { userMessageID + replySuffix }

    /// The stored turn for a retried message id, when its reply was stored too; throws
    /// ``ReplyIDTaken`` when the reply id holds a message that is not this turn's reply.
    private func answeredTurn(of userMessageID: String, in session: ChatSession) async throws -> Turn? {
        let recent = try await session.recent(256)
        let replyID = Self.replyID(to: userMessageID)
        guard let user = recent.last(where: { $0.id == userMessageID && $0.role == .user }),
              let assistant = recent.last(where: { $0.id == replyID }) else { return nil }
        guard assistant.role == .assistant, assistant.metadata["reply_to"] == userMessageID else {
            throw ReplyIDTaken(messageID: userMessageID)
        }
        let remembered = Int(assistant.metadata["remembered"] ?? "") ?? 0
        return Turn(user: user, assistant: assistant, remembered: remembered, windowTokens: 0, replayed: true)
    }
}
