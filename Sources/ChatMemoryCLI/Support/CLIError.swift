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
            switch error.code {
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
        switch error.code {
        case .invalidTokenBudget:
            "invalid token budget: --tokens must be at least 1 and --reserve from 0 to --tokens (got --tokens \(error.tokenLimit ?? 0) --reserve \(error.reserving ?? 0))"
        case .messageExceedsBudget:
            "message \(error.messageID ?? "") needs \(error.tokens ?? 0) tokens, more than the whole budget of \(error.budget ?? 0) (--tokens minus --reserve)"
        case .wrongKeyType:
            "the key \(printable(error.key ?? "")) holds another type of value, not a chat session list"
        case .invalidConfiguration:
            "invalid setting: \(error.reason ?? "")"
        case .unexpectedReply:
            "unexpected reply from Redis: \(error.reason ?? "")"
        default:
            error.description
        }
    }

    /// A readable sentence for a Redis error (the library's messages never carry a password).
    static func describe(_ error: RedisError) -> String {
        if error.code.serverErrorKind != nil { return "Redis replied: \(error.message)" }
        return switch error.code {
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
