import ChatMemory
import Foundation
import Hummingbird

/// The HTTP face of a ``Conversation``:
///
/// - `POST   /sessions/{id}/messages`  `{"content": "...", "id": "optional"}` → the turn
///   (the body is checked against ``RequestLimits`` before anything is stored)
/// - `GET    /sessions/{id}/messages`  → the history; `?tokens=N` → the window that fits N tokens
/// - `DELETE /sessions/{id}`           → `{"deleted": true|false}`
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
    }

    @Sendable func postMessage(_ request: Request, context: Context) async throws -> TurnResponse {
        let id = try sessionID(context)
        let body = try await limits.message(from: request)
        let turn = try await conversation.take(session: id, content: body.content, messageID: body.id)
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

    private func sessionID(_ context: Context) throws -> SessionID {
        // The router hands over the path segment as sent: `user%2042` is the session `user 42`.
        guard let raw = context.parameters.get("id") else { throw APIError.badRequest("missing session id") }
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
