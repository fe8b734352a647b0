/// The state of a ``WindowPolicy/llamaIndex`` window: LlamaIndex `ChatMemoryBuffer.get()`
/// (llama-index-core 0.14.16 – 0.14.25), fed newest first.
///
/// LlamaIndex tries window sizes `m` from the whole history (`n`) down: `n` first, then every
/// `m` in `2..<n` whose oldest message is not a tool or assistant message, then `1`. It returns
/// the first `m` with `count(joined contents of the last m) + reserving <= tokenLimit`; if it
/// reaches `m == 1` it returns the newest message whether it fits or not (empty history: empty).
///
/// The joined count of the newest `m` messages is kept for every `m` fed, each made by
/// prepending one message's text to a ``JoinedTextCounting``, so the tokenising work follows the
/// messages fed, not their square.
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

    /// `tokenLimit - reserving`: what the joined count may reach.
    let budget: Int
    /// Messages seen, newest first.
    private var seen: [ChatMessage] = []
    /// `joinedCounts[i]`: the count of the newest `i + 1` seen messages' contents, joined.
    private var joinedCounts: [Int] = []
    private var joined: any JoinedTextCounting
    private(set) var decided = false

    init(tokenLimit: Int, reserving: Int, counter: any TokenCounter) {
        budget = tokenLimit - reserving
        joined = counter.joinedCounter()
    }

    /// The text LlamaIndex counts for a message: `str(m.content)`, so a message without
    /// content (`None`) counts as the text `"None"` and an empty one as `""`.
    static func text(_ message: ChatMessage) -> String {
        message.content ?? "None"
    }

    mutating func feed(_ newestFirst: some Collection<CountedMessage>) -> Bool {
        for counted in newestFirst {
            if decided { break }
            seen.append(counted.message)
            let count = joined.prepend(Self.text(counted.message))
            joinedCounts.append(count)
            // Over by more than the slack (compared without overflowing, whatever the limit).
            if count > budget, count - budget > Self.slack { decided = true }
        }
        return !decided
    }

    func finish(historyExhausted: Bool) -> (messages: [ChatMessage], tokens: Int, isWholeHistory: Bool) {
        let exhausted = historyExhausted && !decided
        let n = seen.count
        guard n > 0 else { return ([], 0, exhausted) }
        func window(_ m: Int) -> [ChatMessage] { seen[0..<m].reversed() }

        if exhausted, joinedCounts[n - 1] <= budget { return (window(n), joinedCounts[n - 1], true) }
        // When the history goes on beyond what was seen, m == n is an ordinary candidate.
        var m = exhausted ? n - 1 : n
        while m > 1 {
            let oldest = seen[m - 1].role
            if oldest != .tool && oldest != .assistant && joinedCounts[m - 1] <= budget {
                return (window(m), joinedCounts[m - 1], false)
            }
            m -= 1
        }
        return (window(1), joinedCounts[0], exhausted && n == 1)
    }
}
