import ChatMemory
import ChatMemoryRedis
import Vapor

/// An error as the HTTP client sees it: a status and a JSON body with a stable code,
/// `{"error": {"code": "redis_unavailable", "message": "...", "retryable": true}}`.
///
/// What went wrong inside (Redis's own text, its address) stays in ``detail``, which only the
/// worker's log shows. A retryable error is a 503 with `Retry-After`.
struct APIError: AbortError {
    var status: HTTPResponseStatus
    var code: String
    var message: String
    /// The internal cause, for the worker's log only; never sent to the client.
    var detail: String?

    var reason: String { message }
    var headers: HTTPHeaders { retryable ? ["Retry-After": "\(Self.retryAfterSeconds)"] : [:] }
    /// True for a 503: the same request (with the same message id) may succeed later.
    var retryable: Bool { status == .serviceUnavailable }
    /// The `Retry-After` of a 503, in seconds.
    static let retryAfterSeconds = 1

    init(status: HTTPResponseStatus, code: String, message: String, detail: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
    }

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }

    /// The JSON body.
    struct Body: Content {
        struct Details: Codable {
            var code: String
            var message: String
            var retryable: Bool
        }
        var error: Details
    }

    var body: Body { Body(error: .init(code: code, message: message, retryable: retryable)) }
}

extension APIError {
    /// Maps whatever a route throws to a status a client can act on: 400/413/422 for its input,
    /// 503 (retry later with the same message id) while Redis is unreachable or in a transient
    /// state, 502 when Redis refuses the request for good, 500 otherwise.
    init(from error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as ChatMemoryError:
            self.init(chatMemory: error)
        case let error as RedisError:
            self.init(redis: error)
        case let error as any AbortError:
            // Vapor's own errors: no such route, a body over the collect limit.
            let code = error.status == .payloadTooLarge
                ? "body_too_large" : error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            self.init(status: error.status, code: code, message: error.reason)
        default:
            self.init(status: .internalServerError, code: "internal", message: "internal error", detail: "\(error)")
        }
    }

    private init(chatMemory error: ChatMemoryError) {
        switch error.code {
        case .invalidSessionID:
            self.init(status: .badRequest, code: "invalid_session_id", message: error.reason ?? "invalid session id")
        case .invalidMessage:
            self.init(status: .badRequest, code: "invalid_message", message: error.reason ?? "invalid message")
        case .invalidTokenBudget:
            self.init(status: .badRequest, code: "invalid_token_budget",
                      message: "unusable token budget: tokens=\(error.tokenLimit ?? 0), reserving=\(error.reserving ?? 0)")
        case .messageExceedsBudget:
            self.init(status: .unprocessableEntity, code: "message_exceeds_budget",
                      message: "message \(error.messageID ?? "") needs \(error.tokens ?? 0) tokens; the window allows \(error.budget ?? 0)")
        case .messageTooLarge:
            self.init(status: .payloadTooLarge, code: "content_too_large",
                      message: "the message has \(error.bytes ?? 0) bytes; the limit is \(error.limit ?? 0)")
        case .replyConflict:
            self.init(status: .conflict, code: "message_id_conflict",
                      message: "the reply id of message \(error.messageID ?? "") holds a message the server did not write; use another id")
        case .wrongKeyType:
            self.init(status: .conflict, code: "wrong_key_type", message: "the session's key holds something that is not a chat history",
                      detail: "\(error)")
        default:
            self.init(status: .internalServerError, code: "internal", message: "internal error", detail: "\(error)")
        }
    }

    private init(redis error: RedisError) {
        if Self.isTransient(error.code) {
            self.init(status: .serviceUnavailable, code: "redis_unavailable",
                      message: "the chat memory is unavailable for a moment; retry with the same message id", detail: "\(error)")
        } else {
            self.init(status: .badGateway, code: "redis_error", message: "the chat memory refused the request", detail: "\(error)")
        }
    }

    /// Redis states that pass by themselves: unreachable, timed out, loading its data, busy with
    /// a script, out of memory, a read-only or cut-off replica, a cluster in reconfiguration.
    static func isTransient(_ code: RedisError.Code) -> Bool {
        if let kind = code.serverErrorKind {
            return [.loading, .busy, .outOfMemory, .readOnly, .masterDown, .tryAgain, .clusterDown, .noReplicas].contains(kind)
        }
        return [.connectionRefused, .timeout, .connectionClosed, .io, .shutdown].contains(code)
    }
}
