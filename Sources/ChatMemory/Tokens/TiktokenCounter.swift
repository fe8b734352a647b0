import ChatTokenizer
import Logging

/// Exact token counts with a tiktoken encoding (cl100k_base for GPT-3.5/4, o200k_base for
/// GPT-4o), the default counter of chat memory. Encodings ship with the package and load once
/// per process; special tokens count the way LlamaIndex calls tiktoken (`allowed_special="all"`).
///
/// A message costs what ``TokenCounter/count(_:)-(ChatMessage)`` says: a fixed 3 tokens plus the
/// role, name, content and tool-call payloads. ``WindowPolicy/llamaIndex`` instead counts the
/// window's contents joined by single spaces, as LlamaIndex `ChatMemoryBuffer` does.
///
/// ```swift
/// var configuration = ChatMemoryConfiguration()
/// configuration.tokenCounter = try TiktokenCounter(.o200kBase)
/// ```
public struct TiktokenCounter: TokenCounter {
    public let tokenizer: Tokenizer
    /// What images and files cost; its changes show in ``identifier``.
    public var mediaTokens = MediaTokenEstimate.standard
    public var identifier: String { tokenizer.name + mediaTokens.identifierSuffix }

    /// A counter over a bundled encoding; throws `TokenizerError` if the rank file cannot be loaded.
    public init(_ encoding: Tokenizer.BundledEncoding = .cl100kBase) throws {
        self.init(tokenizer: try Tokenizer.bundled(encoding))
    }

    /// A counter over any tokenizer (for example one loaded from a rank file you name).
    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    public func count(_ text: String) -> Int {
        tokenizer.count(text)
    }

    /// Counts near the joining space only: each prepend tokenises the new text and the old
    /// text up to where their pieces line up again (see `Tokenizer.joinedCounter()`).
    public func joinedCounter() -> any JoinedTextCounting {
        tokenizer.joinedCounter()
    }
}

extension JoinedTextCounter: JoinedTextCounting {}

/// The default counter: cl100k_base, loaded on first use (so a memory that never counts, such as
/// one that only lists sessions, never loads the rank file).
///
/// When the rank file is missing or damaged (a deployment without the resource bundle, see
/// `Tokenizer.bundled`), it counts with ``ApproximateTokenCounter`` instead and logs one warning
/// per process, on `Logger(label: "chat-memory")`, saying why and how to fix it.
struct DefaultTokenCounter: TokenCounter {
    var identifier: String { Self.loaded.identifier }

    func count(_ text: String) -> Int { Self.loaded.count(text) }

    func joinedCounter() -> any JoinedTextCounting { Self.loaded.joinedCounter() }

    // Static lets are initialised lazily, exactly once, by the runtime.
    private static let loaded: any TokenCounter = {
        do {
            return try TiktokenCounter(.cl100kBase)
        } catch {
            Logger(label: "chat-memory").warning(
                "exact token counting is unavailable, counting approximately (one token per 4 bytes): \(error)")
            return ApproximateTokenCounter()
        }
    }()
}
