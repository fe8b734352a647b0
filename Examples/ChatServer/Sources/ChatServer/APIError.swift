import ChatMemory
import Foundation
import Hummingbird
import Redis

/// An error as the HTTP client sees it: a status and a JSON body
/// `{"error": {"code": "redis_unavailable", "message": "..."}}`.
struct APIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "bad_request", message: message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ["error": ["code": code, "message": message]]
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}

extension APIError {
    /// Maps what the chat memory and the Redis client throw to statuses a client can act on:
    /// 400 for bad input, 503 (retry later, with the same message id) when Redis can't be reached.
    init(from error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as ChatMemoryError:
            self.init(chatMemory: error)
        case let error as RedisError:
            self.init(redis: error)
        default:
            self.init(status: .internalServerError, code: "internal", message: "\(error)")
        }
    }

    /// Hummingbird's own errors (no such route, a body too large): `not_found`, `content_too_large`, ...
    init(http error: HTTPError) {
        let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
        self.init(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase)
    }

    private init(chatMemory error: ChatMemoryError) {
        switch error {
        case .invalidSessionID(let why):
            self.init(status: .badRequest, code: "invalid_session_id", message: why)
        case .invalidMessage(let why):
            self.init(status: .badRequest, code: "invalid_message", message: why)
        case .invalidTokenBudget(let limit, let reserving):
            self.init(status: .badRequest, code: "invalid_token_budget", message: "unusable token budget: tokens=\(limit), reserving=\(reserving)")
        case .messageExceedsBudget(let id, let tokens, let budget):
            self.init(status: .unprocessableContent, code: "message_exceeds_budget",
                      message: "message \(id) needs \(tokens) tokens; the window allows \(budget)")
        case .wrongKeyType(let key):
            self.init(status: .conflict, code: "wrong_key_type", message: "the session's key \(key) holds something that is not a chat history")
        case .invalidConfiguration(let why), .unexpectedReply(let why):
            self.init(status: .internalServerError, code: "internal", message: why)
        }
    }

    private init(redis error: RedisError) {
        switch error.code {
        case .connectionRefused, .timeout, .connectionClosed, .io, .shutdown, .server(.loading), .server(.busy), .server(.tryAgain):
            self.init(status: .serviceUnavailable, code: "redis_unavailable",
                      message: "chat memory is unavailable (Redis: \(error)); retry with the same message id")
        default:
            self.init(status: .badGateway, code: "redis_error", message: "Redis refused the request: \(error)")
        }
    }
}
