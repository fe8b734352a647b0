import Foundation
import Testing
@testable import ChatMemory

/// Counts like LlamaIndex's own tests do with tiktoken on their fixtures: one token per
/// whitespace-separated word ("first message" is 2 tokens, joined "first message first answer" 4).
struct WindowTestWordCounter: TokenCounter {
    var identifier: String { "test-words/v1" }
    func count(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }
}

/// One token per UTF-8 byte: joining with spaces visibly costs tokens.
struct WindowTestByteCounter: TokenCounter {
    var identifier: String { "test-bytes/v1" }
    func count(_ text: String) -> Int { text.utf8.count }
}

/// Compact history builders: a message with a fixed stored token count.
enum WindowFixture {
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    static func msg(_ id: String, _ role: ChatMessage.Role, _ content: String = "", tokens: Int = 0,
                    calls: [String] = [], answers: String? = nil) -> CountedMessage {
        let toolCalls = calls.map { ChatMessage.ToolCall(id: $0, name: "fn", arguments: "{}") }
        let message = ChatMessage(id: id, role: role, content: content.isEmpty ? id : content,
                                  toolCalls: toolCalls, toolCallID: answers, createdAt: date)
        return CountedMessage(message: message, tokens: tokens)
    }
    static func u(_ id: String, _ tokens: Int) -> CountedMessage { msg(id, .user, tokens: tokens) }
    static func s(_ id: String, _ tokens: Int) -> CountedMessage { msg(id, .system, tokens: tokens) }
    static func a(_ id: String, _ tokens: Int, calls: [String] = []) -> CountedMessage {
        msg(id, .assistant, tokens: tokens, calls: calls)
    }
    static func t(_ id: String, _ tokens: Int, answers: String) -> CountedMessage {
        msg(id, .tool, tokens: tokens, answers: answers)
    }
    /// A message whose content is `text` (for the LlamaIndex policy, which counts contents).
    static func text(_ role: ChatMessage.Role, _ text: String?, id: String? = nil, answers: String? = nil) -> ChatMessage {
        ChatMessage(id: id ?? UUID().uuidString, role: role, content: text, toolCallID: answers, createdAt: date)
    }
}

/// Runs a builder over `history` (oldest first) the way the store does: newest first, in pages
/// of `pageSize` (nil: all at once), stopping when `feed` says no. Returns the window (or the
/// error) and how many messages were handed to `feed`.
func windowTestRun(
    _ history: [CountedMessage], policy: WindowPolicy, tokenLimit: Int, reserving: Int = 0,
    counter: any TokenCounter = ApproximateTokenCounter(), pageSize: Int? = nil
) throws -> (window: Result<ChatWindow, ChatMemoryError>, fed: Int) {
    var builder = try WindowBuilder(policy: policy, tokenLimit: tokenLimit, reserving: reserving, counter: counter)
    let newestFirst = Array(history.reversed())
    let size = max(1, pageSize ?? max(1, newestFirst.count))
    var offset = 0
    var exhausted = newestFirst.isEmpty
    while !exhausted {
        let page = newestFirst[offset..<min(offset + size, newestFirst.count)]
        offset += page.count
        exhausted = offset == newestFirst.count
        if !builder.feed(page) { break }
    }
    do {
        return (.success(try builder.finish(historyExhausted: exhausted)), offset)
    } catch let error as ChatMemoryError {
        return (.failure(error), offset)
    }
}

/// The ids of a window, or the error.
enum WindowOutcome: Equatable, CustomStringConvertible {
    case ids([String])
    case error(ChatMemoryError)

    init(_ result: Result<ChatWindow, ChatMemoryError>) {
        switch result {
        case .success(let window): self = .ids(window.messages.map(\.id))
        case .failure(let error): self = .error(error)
        }
    }

    var description: String {
        switch self {
        case .ids(let ids): "ids\(ids)"
        case .error(let error): "error(\(error))"
        }
    }
}
