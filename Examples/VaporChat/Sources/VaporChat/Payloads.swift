import ChatMemory
import Vapor

/// `POST /sessions/{id}/messages` body. `id` is the client's message id: a retry with the same
/// id returns the stored turn instead of adding a second one. Checked by ``RequestLimits``.
struct PostMessageRequest: Decodable, Sendable {
    var content: String
    var id: String?
}

/// One answered turn: the user's message and the assistant's reply, as stored.
struct TurnResponse: Content {
    var session: String
    var worker: String
    var user: ChatMessage
    var assistant: ChatMessage
    /// How many messages the model was shown before the user's new one.
    var remembered: Int
    /// The tokens of the window the model was shown.
    var windowTokens: Int
    /// True when this was a retry of a turn that had already been answered.
    var replayed: Bool

    enum CodingKeys: String, CodingKey {
        case session, worker, user, assistant, remembered, replayed
        case windowTokens = "window_tokens"
    }
}

/// `GET /sessions/{id}/messages`: the whole history, or with `?tokens=N` the window that fits.
struct HistoryResponse: Content {
    var session: String
    var worker: String
    var messages: [ChatMessage]
    var count: Int
    /// Only for a window: its tokens, its limit, and whether it is the whole history.
    var tokenCount: Int?
    var tokenLimit: Int?
    var wholeHistory: Bool?

    enum CodingKeys: String, CodingKey {
        case session, worker, messages, count
        case tokenCount = "token_count"
        case tokenLimit = "token_limit"
        case wholeHistory = "whole_history"
    }
}

/// `DELETE /sessions/{id}`.
struct DeleteResponse: Content {
    var session: String
    var worker: String
    var deleted: Bool
}

/// `GET /health`: the worker is up (it does not ask Redis).
struct HealthResponse: Content {
    var worker: String
    var status = "ok"
}
