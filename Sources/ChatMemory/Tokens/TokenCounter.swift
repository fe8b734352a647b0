/// Counts the tokens of a text for one encoding.
///
/// ```swift
/// struct WordCounter: TokenCounter {
///     var identifier: String { "words/v1" }
///     func count(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }
/// }
/// let tokens = WordCounter().count(ChatMessage.user("hello there"))   // 3 + 1 + 0 + 2 = 6
/// ```
///
/// Counting an empty string must give 0.
public protocol TokenCounter: Sendable {
    /// A stable identity stored next to each count, e.g. `"approx-utf8-4/v1"` or `"cl100k_base"`.
    /// Change it whenever the counts change, so stored counts are recomputed.
    var identifier: String { get }
    /// The number of tokens of `text`; 0 for `""`.
    func count(_ text: String) -> Int
    /// A counter of texts joined by single spaces, grown by prepending older texts (what
    /// ``WindowPolicy/llamaIndex`` counts). The default recounts the whole joined text on every
    /// prepend; a tokenizer that can do better (``TiktokenCounter`` counts only near the join)
    /// overrides it.
    func joinedCounter() -> any JoinedTextCounting
    /// What images and files of a message's ``ChatMessage/parts`` cost (default
    /// ``MediaTokenEstimate/standard``). A counter whose estimate can change puts it in its
    /// ``identifier``.
    var mediaTokens: MediaTokenEstimate { get }
}

/// Counts texts joined by single spaces as older texts are prepended, newest first.
///
/// ```swift
/// var joined = ApproximateTokenCounter().joinedCounter()
/// joined.prepend("world")      // count("world")
/// joined.prepend("hello")      // count("hello world")
/// ```
public protocol JoinedTextCounting: Sendable {
    /// Prepends `text` (followed by one space when texts were prepended before) and returns the
    /// count of the whole joined text.
    mutating func prepend(_ text: String) -> Int
}

/// The default ``JoinedTextCounting``: exact for any counter, recounting the whole text.
struct RecountingJoinedCounter: JoinedTextCounting {
    let counter: any TokenCounter
    private var joined: String?

    init(counter: any TokenCounter) { self.counter = counter }

    mutating func prepend(_ text: String) -> Int {
        let text = joined.map { text + " " + $0 } ?? text
        joined = text
        return counter.count(text)
    }
}

extension TokenCounter {
    public func joinedCounter() -> any JoinedTextCounting { RecountingJoinedCounter(counter: self) }

    public var mediaTokens: MediaTokenEstimate { .standard }

    /// The fixed overhead of every message in ``TokenCounter/count(_:)-(ChatMessage)``.
    public static var perMessageOverhead: Int { 3 }

    /// The tokens a message costs in a prompt:
    ///
    ///     3 (fixed overhead per message)
    ///     + count(role.rawValue) + count(name ?? "")
    ///     + count(content ?? ""), or with parts, Σ parts (count(text), an image's or a file's
    ///       tokens by ``mediaTokens``: see ``MediaTokenEstimate``)
    ///     + for each tool call: count(id) + count(name) + count(arguments)
    ///     + count(toolCallID ?? "")
    ///
    /// Tool-call payloads are counted, so a window of tool-heavy turns doesn't overflow.
    ///
    /// ```swift
    /// let tokens = ApproximateTokenCounter().count(ChatMessage.user("Hello, world"))
    /// // 3 + count("user") 1 + count("Hello, world") 3 = 7
    /// ```
    public func count(_ message: ChatMessage) -> Int {
        // Sums saturate: a counter's estimates are the caller's, whatever they are.
        var total = Self.perMessageOverhead
        func add(_ tokens: Int) { total = ModelSafeWindow.adding(total, tokens) }
        add(count(message.role.rawValue))
        add(count(message.name ?? ""))
        if message.parts.isEmpty {
            add(count(message.content ?? ""))
        } else {
            for part in message.parts { add(mediaTokens.tokens(of: part, counter: self)) }
        }
        for call in message.toolCalls {
            add(count(call.id))
            add(count(call.name))
            add(count(call.arguments))
        }
        add(count(message.toolCallID ?? ""))
        return total
    }
}
