import ChatMemory
import Hummingbird

/// `POST /sessions/{id}/messages` body. `id` is the client's message id: a retry with the same
/// id returns the stored turn instead of adding a second one. Checked by ``RequestLimits``.
struct PostMessageRequest: Decodable, Sendable {
    var content: String
    var id: String?
    /// Whose conversation this is (a user id): the session is listed in `GET /owners/{owner}/conversations`.
    var owner: String?
}

/// `GET /owners/{owner}/conversations`: one page, most recently active first.
struct ConversationsResponse: ResponseEncodable {
    struct Item: Encodable {
        var session: String
        var title: String?
        /// Unix milliseconds.
        var created: Int64
        var lastActive: Int64
        var messages: Int

        enum CodingKeys: String, CodingKey {
            case session, title, created, messages
            case lastActive = "last_active"
        }
    }

    var owner: String
    var worker: String
    var conversations: [Item]
    /// Pass as `?after=` for the next page; absent on the last.
    var next: String?
}

/// One answered turn: the user's message and the assistant's reply, as stored.
struct TurnResponse: ResponseEncodable {
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
struct HistoryResponse: ResponseEncodable {
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
struct DeleteResponse: ResponseEncodable {
    var session: String
    var worker: String
    var deleted: Bool
}

/// `GET /health`: the worker is up (it does not ask Redis).
struct HealthResponse: ResponseEncodable {
    var worker: String
    var store: String
    var status = "ok"
}
