import ChatMemory
import Foundation
import Vapor

/// The HTTP face of a ``Conversation``:
///
/// - `POST   /sessions/{id}/messages`  `{"content": "...", "id": "optional"}` → the turn
/// - `GET    /sessions/{id}/messages`  → the history; `?tokens=N` → the window that fits N tokens
/// - `DELETE /sessions/{id}`           → `{"deleted": true|false}`
/// - `GET    /health`                  → this worker is up (Redis is not asked)
struct ChatController: RouteCollection {
    let conversation: Conversation
    let limits: RequestLimits

    func boot(routes: any RoutesBuilder) throws {
        routes.get("health", use: health)
        let session = routes.grouped("sessions", ":id")
        // Vapor collects the body up to the limit and refuses a larger one with a 413.
        session.on(.POST, "messages", body: .collect(maxSize: ByteCount(value: limits.maxBodyBytes)), use: postMessage)
        session.get("messages", use: getMessages)
        session.delete(use: deleteSession)
    }

    @Sendable func health(_ request: Request) async throws -> HealthResponse {
        HealthResponse(worker: conversation.worker)
    }

    @Sendable func postMessage(_ request: Request) async throws -> TurnResponse {
        let id = try sessionID(request)
        let body = try limits.message(from: request)
        let turn = try await conversation.take(session: id, content: body.content, messageID: body.id)
        return TurnResponse(session: id.description, worker: conversation.worker, user: turn.user, assistant: turn.assistant,
                            remembered: turn.remembered, windowTokens: turn.windowTokens, replayed: turn.replayed)
    }

    @Sendable func getMessages(_ request: Request) async throws -> HistoryResponse {
        let id = try sessionID(request)
        let session = conversation.memory.session(id)
        guard let tokensText = request.query[String.self, at: "tokens"] else {
            let messages = try await session.all(logger: request.logger)
            return HistoryResponse(session: id.description, worker: conversation.worker, messages: messages, count: messages.count)
        }
        guard let tokens = Int(tokensText), tokens > 0 else {
            throw APIError.badRequest("tokens must be a positive integer (got \(tokensText))")
        }
        let window = try await session.window(tokenLimit: tokens, logger: request.logger)
        return HistoryResponse(session: id.description, worker: conversation.worker, messages: window.messages, count: window.messages.count,
                               tokenCount: window.tokenCount, tokenLimit: window.tokenLimit, wholeHistory: window.isWholeHistory)
    }

    @Sendable func deleteSession(_ request: Request) async throws -> DeleteResponse {
        let id = try sessionID(request)
        let deleted = try await conversation.memory.delete(id)
        return DeleteResponse(session: id.description, worker: conversation.worker, deleted: deleted)
    }

    /// The path segment as a session id: percent-decoded (Vapor hands it over as sent, so
    /// `user%2042` is the session `user 42`), 1 to 512 bytes.
    private func sessionID(_ request: Request) throws -> ChatMemory.SessionID {
        guard let raw = request.parameters.get("id") else { throw APIError.badRequest("missing session id") }
        guard let text = raw.removingPercentEncoding else {
            throw APIError(status: .badRequest, code: "invalid_session_id", message: "the session id is not valid percent-encoding")
        }
        return try ChatMemory.SessionID(text)
    }
}
