/// The state of a ``WindowPolicy/llamaIndex`` window: LlamaIndex `ChatMemoryBuffer.get()`
/// (llama-index-core 0.14.16 – 0.14.25), fed newest first.
///
/// LlamaIndex tries window sizes `m` from the whole history (`n`) down: `n` first, then every
/// `m` in `2..<n` whose oldest message is not a tool or assistant message, then `1`. It returns
/// the first `m` with `count(joined contents of the last m) + reserving <= tokenLimit`; if it
/// reaches `m == 1` it returns the newest message whether it fits or not (empty history: empty).
///
/// Exactness needs the history from its start; feeding stops once the joined count of the seen
/// messages plus `reserving` exceeds `tokenLimit + slack`. Every larger window then also exceeds
/// `tokenLimit` as long as prepending older messages never lowers the joined count by more than
/// ``slack`` tokens. With a BPE tokenizer prepending can lower it a little (the joining space
/// can merge into the next word: `"Kubernetes"` is two cl100k tokens, `" Kubernetes"` one), by far
/// less than 64 in practice; with a counter whose count never drops when text is prepended
/// (words, UTF-8 bytes / 4) the result is always exact.
struct LlamaIndexWindow: Sendable {
    /// Tokens by which the seen text must exceed the limit before older messages are ignored.
    static let slack = 64

    let tokenLimit: Int
    let reserving: Int
    let counter: any TokenCounter
    /// Messages seen, newest first.
    private var seen: [ChatMessage] = []
    private(set) var decided = false

    init(tokenLimit: Int, reserving: Int, counter: any TokenCounter) {
        self.tokenLimit = tokenLimit
        self.reserving = reserving
        self.counter = counter
    }

    /// The text LlamaIndex counts for a message: `str(m.content)`, so a message without
    /// content (`None`) counts as the text `"None"` and an empty one as `""`.
    static func text(_ message: ChatMessage) -> String {
        message.content ?? "None"
    }

    /// The count of the newest `m` seen messages' contents joined by single spaces.
    private func joinedCount(newest m: Int) -> Int {
        guard m > 0 else { return 0 }
        return counter.count(seen[0..<m].reversed().map(Self.text).joined(separator: " "))
    }

    mutating func feed(_ newestFirst: some Collection<CountedMessage>) -> Bool {
        guard !decided else { return false }
        let before = seen.count
        seen.append(contentsOf: newestFirst.lazy.map(\.message))
        let stopAt = tokenLimit + Self.slack
        guard seen.count > before, joinedCount(newest: seen.count) + reserving > stopAt else { return true }
        // Keep only up to the first message that pushed the count over (binary search, assuming
        // the count grows with m), so the result doesn't depend on the page size.
        var low = before + 1, high = seen.count
        while low < high {
            let mid = (low + high) / 2
            if joinedCount(newest: mid) + reserving > stopAt { high = mid } else { low = mid + 1 }
        }
        seen.removeSubrange(low...)
        decided = true
        return false
    }

    func finish(historyExhausted: Bool) -> (messages: [ChatMessage], tokens: Int, isWholeHistory: Bool) {
        let exhausted = historyExhausted && !decided
        let n = seen.count
        guard n > 0 else { return ([], 0, exhausted) }
        func window(_ m: Int) -> [ChatMessage] { seen[0..<m].reversed() }

        if exhausted {
            let tokens = joinedCount(newest: n)
            if tokens + reserving <= tokenLimit { return (window(n), tokens, true) }
        }
        // When the history goes on beyond what was seen, m == n is an ordinary candidate.
        var m = exhausted ? n - 1 : n
        while m > 1 {
            let oldest = seen[m - 1].role
            if oldest != .tool && oldest != .assistant {
                let tokens = joinedCount(newest: m)
                if tokens + reserving <= tokenLimit { return (window(m), tokens, false) }
            }
            m -= 1
        }
        return (window(1), joinedCount(newest: 1), exhausted && n == 1)
    }
}
