import ChatMemory
import Foundation
import Hummingbird

/// The HTTP face of a ``Conversation``:
///
/// - `POST   /sessions/{id}/messages`  `{"content": "...", "id": "optional"}` → the turn
///   (the body is checked against ``RequestLimits`` before anything is stored)
/// - `GET    /sessions/{id}/messages`  → the history; `?tokens=N` → the window that fits N tokens
/// - `DELETE /sessions/{id}`           → `{"deleted": true|false}`
/// - `GET    /owners/{owner}/conversations` → the owner's sessions, newest activity first
///   (`?limit=N&after=CURSOR` pages)
/// - `GET    /health`                  → this worker is up
struct ChatRoutes<Context: RequestContext> {
    let conversation: Conversation
    let limits: RequestLimits
    let storeName: String

    func add(to router: Router<Context>) {
        router.get("health") { _, _ in HealthResponse(worker: conversation.worker, store: storeName) }
        router.post("sessions/:id/messages", use: postMessage)
        router.get("sessions/:id/messages", use: getMessages)
        router.delete("sessions/:id", use: deleteSession)
        router.get("owners/:owner/conversations", use: getConversations)
    }

    @Sendable func postMessage(_ request: Request, context: Context) async throws -> TurnResponse {
        let id = try sessionID(context)
        let body = try await limits.message(from: request)
        let owner = try body.owner.map { text in try OwnerID(text) }
        let turn = try await conversation.take(session: id, owner: owner, content: body.content, messageID: body.id)
        return TurnResponse(session: id.description, worker: conversation.worker, user: turn.user, assistant: turn.assistant,
                            remembered: turn.remembered, windowTokens: turn.windowTokens, replayed: turn.replayed)
    }

    @Sendable func getMessages(_ request: Request, context: Context) async throws -> HistoryResponse {
        let id = try sessionID(context)
        let session = conversation.memory.session(id)
        guard let tokensText = request.uri.queryParameters["tokens"] else {
            let messages = try await session.all()
            return HistoryResponse(session: id.description, worker: conversation.worker, messages: messages, count: messages.count)
        }
        guard let tokens = Int(tokensText), tokens > 0 else { throw APIError.badRequest("tokens must be a positive integer (got \(tokensText))") }
        let window = try await session.window(tokenLimit: tokens)
        return HistoryResponse(session: id.description, worker: conversation.worker, messages: window.messages, count: window.messages.count,
                               tokenCount: window.tokenCount, tokenLimit: window.tokenLimit, wholeHistory: window.isWholeHistory)
    }

    @Sendable func deleteSession(_ request: Request, context: Context) async throws -> DeleteResponse {
        let id = try sessionID(context)
        let deleted = try await conversation.memory.delete(id)
        return DeleteResponse(session: id.description, worker: conversation.worker, deleted: deleted)
    }

    @Sendable func getConversations(_ request: Request, context: Context) async throws -> ConversationsResponse {
        let owner = try pathID(context, "owner")
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...RedisChatMemory.maxConversationPage).contains(value) else {
                throw APIError.badRequest("limit must be 1 to \(RedisChatMemory.maxConversationPage) (got \(text))")
            }
            limit = value
        }
        var cursor: ConversationCursor?
        if let text = query["after"] {
            guard let parsed = ConversationCursor(String(text)) else { throw APIError.badRequest("after must be a cursor this server returned as next") }
            cursor = parsed
        }
        let page = try await conversation.memory.conversations(of: owner, after: cursor, limit: limit)
        return ConversationsResponse(owner: owner.description, worker: conversation.worker, conversations: page.conversations.map {
            .init(session: $0.id.description, title: $0.title, created: Self.milliseconds($0.created),
                  lastActive: Self.milliseconds($0.lastActive), messages: $0.messageCount)
        }, next: page.next?.description)
    }

    private static func milliseconds(_ date: Date) -> Int64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return Int64(exactly: milliseconds) ?? (milliseconds > 0 ? .max : .min)
    }

    private func sessionID(_ context: Context) throws -> SessionID {
        try pathID(context, "id")
    }

    /// A path segment as an id: percent-decoded, 1 to 512 bytes.
    private func pathID(_ context: Context, _ name: String) throws -> SessionID {
        // The router hands over the path segment as sent: `user%2042` is the session `user 42`.
        guard let raw = context.parameters.get(name) else { throw APIError.badRequest("missing \(name)") }
        guard let text = raw.removingPercentEncoding else {
            throw APIError(status: .badRequest, code: "invalid_session_id", message: "the session id is not valid percent-encoding")
        }
        do {
            return try SessionID(text)
        } catch {
            throw APIError(from: error)
        }
    }
}
