import ChatMemory
import Foundation
import Vapor

/// How much one request may carry, checked before anything is stored: a body over
/// `maxBodyBytes` (Vapor refuses it while collecting) or a content over `maxContentBytes` is a
/// 413, a message over `tokens` (the model's window) a 422.
struct RequestLimits: Sendable {
    /// The token budget of the window the model is shown; a user message must fit it alone.
    var tokens = 4_000
    /// The largest request body collected, in bytes.
    var maxBodyBytes = 64 * 1024
    /// The largest message content, in UTF-8 bytes.
    var maxContentBytes = 16 * 1024
    /// The longest client message id, in UTF-8 bytes.
    var maxMessageIDBytes = 128

    /// Decodes and checks a `POST /sessions/{id}/messages` body (already collected by the route).
    func message(from request: Request) throws -> PostMessageRequest {
        guard let buffer = request.body.data else { throw APIError.badRequest(Self.expected) }
        let body: PostMessageRequest
        do {
            body = try JSONDecoder().decode(PostMessageRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest(Self.expected)
        }
        guard !body.content.isEmpty else { throw APIError.badRequest("content must not be empty") }
        guard body.content.utf8.count <= maxContentBytes else {
            throw APIError(status: .payloadTooLarge, code: "content_too_large",
                           message: "content is \(body.content.utf8.count) bytes; at most \(maxContentBytes) are accepted")
        }
        if let id = body.id {
            guard (1...maxMessageIDBytes).contains(id.utf8.count) else {
                throw APIError(status: .badRequest, code: "invalid_message_id", message: "id, when given, must be 1 to \(maxMessageIDBytes) bytes")
            }
            guard !id.hasSuffix(ChatSession.replySuffix) else {
                throw APIError(status: .badRequest, code: "invalid_message_id",
                               message: "ids ending in '\(ChatSession.replySuffix)' are reserved for the server's replies")
            }
        }
        return body
    }

    private static let expected = #"expected a JSON body {"content": "...", "id": "optional message id"}"#
}
