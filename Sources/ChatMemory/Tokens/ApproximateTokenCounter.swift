/// A tokenizer-free estimate: one token per 4 UTF-8 bytes, rounded up (`ceil(bytes / 4)`).
/// Cheap, and good for tests; ``TiktokenCounter`` is the exact default.
///
/// ```swift
/// let counter = ApproximateTokenCounter()
/// counter.count("hello")          // 2  (5 bytes)
/// counter.identifier              // "approx-utf8-4/v1"
/// ```
public struct ApproximateTokenCounter: TokenCounter {
    public init() {}

    /// What images and files cost; its changes show in ``identifier``.
    public var mediaTokens = MediaTokenEstimate.standard
    public var identifier: String { "approx-utf8-4/v1" + mediaTokens.identifierSuffix }

    public func count(_ text: String) -> Int {
        (text.utf8.count + 3) / 4
    }

    /// Counts a joined text from its running length in bytes: constant work per prepend.
    public func joinedCounter() -> any JoinedTextCounting { JoinedBytes() }

    private struct JoinedBytes: JoinedTextCounting {
        var bytes: Int?

        mutating func prepend(_ text: String) -> Int {
            let total = text.utf8.count + (bytes.map { $0 + 1 } ?? 0)
            bytes = total
            return (total + 3) / 4
        }
    }
}
