/// The state of a ``WindowPolicy/modelSafe`` window.
///
/// In chronological terms a window is the suffix of the history that starts at a *cut*. A cut
/// is allowed where the message is not a tool result and no tool result at or after it answers
/// a call made before it; an orphan result (its call is nowhere in the history, e.g. trimmed by
/// the length cap) counts as answering a call before everything, so the window starts after
/// it: the model API rejects a tool result without its call. The messages between two
/// neighbouring cuts form a unit; the window is the longest run of newest units whose summed
/// counts fit `budget`.
///
/// What `feed` must see beyond the budget: once the counts exceed the budget, every cut older
/// than that message is out, but cuts newer than it are allowed only if each tool result after
/// them finds its call. So feeding goes on until every tool result seen within the budget has
/// met its assistant call, or ``orphanLookahead`` more messages were read. Results still
/// unanswered then are assumed to answer calls further back (so the window starts after them):
/// never unsafe, only shorter.
///
/// A window never holds an orphan result, so when the newest message is one (or a history
/// holds orphan results only) the window is empty; when the newest unit (or the run of results
/// whose calls were not reached) is over the budget, `finish` throws
/// ``ChatMemoryError/messageExceedsBudget(messageID:tokens:budget:)`` instead of returning an
/// empty window.
struct ModelSafeWindow: Sendable {
    /// How many messages past the budget are read to find the calls of pending tool results.
    static let orphanLookahead = 64

    let budget: Int
    /// Messages seen, newest first.
    private(set) var seen: [CountedMessage] = []
    private var total = 0
    /// Index (newest first) of the message that pushed the sum over the budget.
    private var overflowIndex: Int?
    /// Call ids of tool results seen within the budget whose assistant call hasn't been seen.
    private var pending: Set<String> = []
    private(set) var decided = false

    init(budget: Int) {
        self.budget = budget
    }

    mutating func feed(_ newestFirst: some Collection<CountedMessage>) -> Bool {
        for counted in newestFirst {
            if decided { break }
            seen.append(counted)
            let message = counted.message
            if message.role == .assistant {
                for call in message.toolCalls { pending.remove(call.id) }
            }
            if let overflow = overflowIndex {
                if pending.isEmpty || seen.count - 1 - overflow >= Self.orphanLookahead { decided = true }
                continue
            }
            total = Self.adding(total, counted.tokens)
            if total > budget {
                // Cuts at or before this message are over budget, so its own call id matters only
                // when nothing newer can open a window (every message so far is a tool result):
                // then its call tells an over-budget unit (an error) from an orphan (no window).
                overflowIndex = seen.count - 1
                if message.role == .tool, let callID = message.toolCallID, seen.allSatisfy({ $0.message.role == .tool }) {
                    pending.insert(callID)
                }
                if pending.isEmpty { decided = true }
            } else if message.role == .tool, let callID = message.toolCallID {
                pending.insert(callID)
            }
        }
        return !decided
    }

    func finish(historyExhausted: Bool) throws -> (messages: [ChatMessage], tokens: Int, isWholeHistory: Bool) {
        let exhausted = historyExhausted && !decided
        let chronological = seen.reversed().map(\.message)
        let n = chronological.count
        if n == 0 { return ([], 0, exhausted) }

        // match[p]: for a tool result, the index of the assistant it answers; -1 when that call
        // lies before everything seen; nil for an orphan (or any other message).
        var match = [Int?](repeating: nil, count: n)
        var openResults: [String: [Int]] = [:]  // call id -> results (newer) still unmatched
        for p in stride(from: n - 1, through: 0, by: -1) {
            let message = chronological[p]
            if message.role == .assistant {
                for call in message.toolCalls {
                    for result in openResults.removeValue(forKey: call.id) ?? [] { match[result] = p }
                }
            }
            if message.role == .tool, let callID = message.toolCallID {
                openResults[callID, default: []].append(p)
            }
        }
        // A result whose call was not seen answers a call before everything seen, or none at
        // all (an orphan, e.g. its call trimmed by the length cap): either way no window may
        // hold it, as the model API rejects a tool result without its call.
        for results in openResults.values { for result in results { match[result] = -1 } }

        // Walk from the newest end, tracking the oldest call any result at or after s needs.
        var oldestNeeded = Int.max
        var sum = 0
        var start = n           // the window's first index; n = empty
        var startSum = 0
        var firstCut: (index: Int, sum: Int)?
        for s in stride(from: n - 1, through: 0, by: -1) {
            let message = chronological[s]
            sum = Self.adding(sum, seen[n - 1 - s].tokens)
            if let m = match[s] { oldestNeeded = min(oldestNeeded, m) }
            guard message.role != .tool, oldestNeeded >= s else { continue }
            if firstCut == nil { firstCut = (s, sum) }
            if sum > budget { break }
            start = s
            startSum = sum
        }
        if start == n {
            // Nothing fits: the newest unit is over the budget, whether its start was found
            // (`firstCut`) or lies beyond every message read (results whose calls were not
            // reached): report it rather than return an empty window. With the whole history
            // read and no cut at all, a newer orphan result rules out every window: empty.
            if let cut = firstCut, cut.sum > budget {
                throw ChatMemoryError.messageExceedsBudget(
                    messageID: chronological[cut.index].id, tokens: cut.sum, budget: budget)
            }
            if firstCut == nil, sum > budget, !exhausted {
                throw ChatMemoryError.messageExceedsBudget(messageID: chronological[0].id, tokens: sum, budget: budget)
            }
        }
        let messages = Array(chronological[start...])
        return (messages, startSum, exhausted && start == 0)
    }

    /// `sum + max(0, tokens)`, stopping at `Int.max` instead of overflowing (counts given to a
    /// builder are the caller's, whatever they are).
    static func adding(_ sum: Int, _ tokens: Int) -> Int {
        let (total, overflow) = sum.addingReportingOverflow(max(0, tokens))
        return overflow ? .max : total
    }
}
