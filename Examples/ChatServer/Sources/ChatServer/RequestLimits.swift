import ChatMemory
import Foundation
import Hummingbird

/// How much one request may carry, checked before anything is stored or counted:
/// a body over `maxBodyBytes` or a content over `maxContentBytes` is a 413, a message over
/// `tokens` (the model's window) a 422.
struct RequestLimits: Sendable {
    /// The token budget of the window the model is shown; a user message must fit it alone.
    var tokens: Int
    /// The largest request body read, in bytes (default 64 KiB).
    var maxBodyBytes: Int
    /// The largest message content, in UTF-8 bytes (default 16 KiB).
    var maxContentBytes: Int
    /// The longest client message id, in UTF-8 bytes.
    var maxMessageIDBytes = 128

    /// Reads and checks a `POST /sessions/{id}/messages` body. A declared `Content-Length` over
    /// the limit is refused before a byte of the body is read; a chunked body stops being read at
    /// the limit.
    func message(from request: Request) async throws -> PostMessageRequest {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBodyBytes {
            throw bodyTooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw bodyTooLarge
        }
        let body: PostMessageRequest
        do {
            body = try JSONDecoder().decode(PostMessageRequest.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest(#"expected a JSON body {"content": "...", "id": "optional message id"}"#)
        }
        guard !body.content.isEmpty else { throw APIError.badRequest("content must not be empty") }
        if let owner = body.owner, !(1...OwnerID.maxLength).contains(owner.utf8.count) {
            throw APIError(status: .badRequest, code: "invalid_owner", message: "owner, when given, must be 1 to \(OwnerID.maxLength) bytes")
        }
        guard body.content.utf8.count <= maxContentBytes else {
            throw APIError(status: .contentTooLarge, code: "content_too_large",
                           message: "content is \(body.content.utf8.count) bytes; at most \(maxContentBytes) are accepted")
        }
        if let id = body.id {
            guard (1...maxMessageIDBytes).contains(id.utf8.count) else {
                throw APIError(status: .badRequest, code: "invalid_message_id", message: "id, when given, must be 1 to \(maxMessageIDBytes) bytes")
            }
            guard !id.hasSuffix(Conversation.replySuffix) else {
                throw APIError(status: .badRequest, code: "invalid_message_id",
                               message: "ids ending in '\(Conversation.replySuffix)' are reserved for the server's replies")
            }
        }
        return body
    }

    private var bodyTooLarge: APIError {
        APIError(status: .contentTooLarge, code: "body_too_large", message: "the request body is over \(maxBodyBytes) bytes")
    }
}
