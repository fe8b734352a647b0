import ArgumentParser
import ChatMemory
import Foundation
import ChatMemoryRedis

/// A failure the CLI reports as one line on standard error, with the exit code of its kind.
enum CLIError: Error {
    /// The command was used wrongly (bad URL, session id, budget, option value): exit 64.
    case usage(String)
    /// The input data is not what the command reads (an import line that is not a message): exit 65.
    case data(String)
    /// Anything else (Redis unreachable, a key of the wrong type, ...): exit 1.
    case runtime(String)

    var message: String {
        switch self {
        case .usage(let text), .data(let text), .runtime(let text): text
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .usage: .validationFailure   // 64, EX_USAGE
        case .data: ExitCode(65)          // EX_DATAERR
        case .runtime: .failure           // 1
        }
    }

    /// Classifies any error thrown while running a command.
    init(_ error: any Error) {
        switch error {
        case let error as CLIError:
            self = error
        case let error as ChatMemoryError:
            switch error {
            case .invalidSessionID, .invalidTokenBudget, .invalidConfiguration:
                self = .usage(Self.describe(error))
            case .invalidMessage, .messageTooLarge:
                self = .data(Self.describe(error))
            default:
                self = .runtime(Self.describe(error))
            }
        case let error as RedisError:
            self = error.code == .invalidConfiguration ? .usage(error.message) : .runtime(Self.describe(error))
        default:
            self = .runtime(String(describing: error))
        }
    }

    /// A readable sentence for a chat memory error.
    static func describe(_ error: ChatMemoryError) -> String {
        switch error {
        case .invalidTokenBudget(let limit, let reserving):
            "invalid token budget: --tokens must be at least 1 and --reserve from 0 to --tokens (got --tokens \(limit) --reserve \(reserving))"
        case .messageExceedsBudget(let id, let tokens, let budget):
            "message \(id) needs \(tokens) tokens, more than the whole budget of \(budget) (--tokens minus --reserve)"
        case .invalidSessionID(let why):
            "invalid session id: \(why)"
        case .wrongKeyType(let key):
            "the key \(printable(key)) holds another type of value, not a chat session list"
        case .invalidMessage(let why):
            "invalid message: \(why)"
        case .messageTooLarge(let id, let bytes, let limit):
            "message \(id) has \(bytes) bytes, more than the limit of \(limit)"
        case .invalidConfiguration(let why):
            "invalid setting: \(why)"
        case .unexpectedReply(let what):
            "unexpected reply from Redis: \(what)"
        case .replicationIncomplete(let acknowledged, let required):
            "stored on the primary, but only \(acknowledged) of \(required) replicas confirmed it in time (retrying is safe)"
        }
    }

    /// A readable sentence for a Redis error (the library's messages never carry a password).
    static func describe(_ error: RedisError) -> String {
        switch error.code {
        case .server: "Redis replied: \(error.message)"
        case .connectionRefused: "cannot connect to Redis: \(error.message)"
        case .timeout: "Redis timed out: \(error.message)"
        default: "Redis: \(error.message)"
        }
    }
}

/// Text with control characters escaped, so one value stays on one line.
func printable(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "\\": result += "\\\\"
        default:
            if scalar.properties.generalCategory == .control {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result
}
