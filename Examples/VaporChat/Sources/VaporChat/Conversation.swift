import ChatMemory
import Foundation

/// One turn of a conversation, independent of HTTP: store the user's message, show the model the
/// window, store its reply. Every step goes through Redis, so any worker can take any turn, and
/// ``ChatSession/respond(to:tokenLimit:reserving:policy:leaseDuration:logger:model:)`` makes it
/// one model call and one stored reply per message id, however many retries arrive on whichever
/// workers; a retry returns the stored turn (`replayed`).
struct Conversation: Sendable {
    let memory: RedisChatMemory
    /// The memory's counter, to refuse a message the window can't hold before storing it.
    let counter: any TokenCounter
    let model: any ChatModel
    let worker: String
    /// The window the model is shown: the newest messages within this many tokens.
    let tokenLimit: Int

    /// How long one worker holds a turn while the model answers it. The offline model answers at
    /// once; a deployment calling an LLM API sets this above that call's timeout.
    static let turnLease: Duration = .seconds(5)

    struct Turn {
        var user: ChatMessage
        var assistant: ChatMessage
        var remembered: Int
        var windowTokens: Int
        var replayed: Bool
    }

    func take(session id: ChatMemory.SessionID, content: String, messageID: String?) async throws -> Turn {
        let session = memory.session(id)
        let user = ChatMessage(id: messageID ?? UUID().uuidString, role: .user, content: content, metadata: ["worker": worker])
        let tokens = counter.count(user)
        guard tokens <= tokenLimit else {
            throw ChatMemoryError.messageExceedsBudget(messageID: user.id, tokens: tokens, budget: tokenLimit)
        }
        let turn = try await session.respond(to: user, tokenLimit: tokenLimit, leaseDuration: Self.turnLease) { window in
            let shown = window.messages.last?.id == user.id ? window.messages : window.messages + [user]
            let reply = try await model.reply(to: shown)
            return ChatMessage(role: .assistant, content: reply, metadata: ["worker": worker, "remembered": "\(shown.count - 1)"])
        }
        let remembered = Int(turn.reply.metadata["remembered"] ?? "") ?? 0
        return Turn(user: user, assistant: turn.reply, remembered: remembered, windowTokens: turn.window?.tokenCount ?? 0,
                    replayed: !turn.generated)
    }
}
