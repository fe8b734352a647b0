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
///
/// With ``Rules/anthropic`` (``WindowPolicy/anthropicSafe``) a cut must also open a request
/// Anthropic accepts, and no window reaches back past a tool call that Anthropic would see
/// unanswered (see ``AnthropicLimits``).
struct ModelSafeWindow: Sendable {
    /// Whose ordering rules the window follows.
    enum Rules: Sendable { case openAI, anthropic }

    /// How many messages past the budget are read to find the calls of pending tool results.
    static let orphanLookahead = 64

    let budget: Int
    let rules: Rules
    /// Messages seen, newest first.
    private(set) var seen: [CountedMessage] = []
    private var total = 0
    /// Index (newest first) of the message that pushed the sum over the budget.
    private var overflowIndex: Int?
    /// Call ids of tool results seen within the budget whose assistant call hasn't been seen.
    private var pending: Set<String> = []
    private(set) var decided = false

    /// Past the budget, whether older messages can no longer change the window: every result
    /// seen has met its call and, under ``Rules/anthropic``, the messages seen hold a cut or
    /// a barrier (so the newest unit is known, should it be over the budget). Only a user
    /// message or an assistant message can settle that, so the walk over `seen` runs for those
    /// alone, at most ``orphanLookahead`` times per window.
    private func enoughRead(after message: ChatMessage) -> Bool {
        guard pending.isEmpty else { return false }
        guard rules == .anthropic else { return true }
        guard message.role == .user || message.role == .assistant else { return false }
        switch evaluate(settling: true) {
        case .window, .exceeds, .blocked, .toolsRunning: return true
        case .noCut: return false
        }
    }

    init(budget: Int, rules: Rules = .openAI) {
        self.budget = budget
        self.rules = rules
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
                if seen.count - 1 - overflow >= Self.orphanLookahead || enoughRead(after: message) { decided = true }
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
                if enoughRead(after: message) { decided = true }
            } else if message.role == .tool, let callID = message.toolCallID {
                pending.insert(callID)
            }
        }
        return !decided
    }

    /// What the messages seen give: a window from `start`, an over-budget newest unit from
    /// `index` (its tokens `sum`), or neither.
    private enum Outcome {
        /// The window starts at `start` (n: empty) with `sum` tokens.
        case window(start: Int, sum: Int)
        /// The newest unit, from `index`, needs `sum` tokens, over the budget.
        case exceeds(index: Int, sum: Int)
        /// No cut among the messages seen: `sum` is the tokens of all of them.
        case noCut(sum: Int)
        /// A barrier (``AnthropicLimits/barrier``) came before any cut that fits.
        case blocked
        /// The history ends in tools still running (``AnthropicLimits/pendingCall``).
        case toolsRunning(index: Int, callID: String)
    }

    /// `settling`: while reading, say ``Outcome/noCut(sum:)`` (read on) until the messages seen
    /// tell whether the history ends in tools still running.
    private func evaluate(settling: Bool = false) -> Outcome {
        let n = seen.count
        let chronological = { (p: Int) in seen[n - 1 - p].message }

        // match[p]: for a tool result, the index of the assistant it answers; -1 when that call
        // lies before everything seen; nil for an orphan (or any other message).
        var match = [Int?](repeating: nil, count: n)
        var openResults: [String: [Int]] = [:]  // call id -> results (newer) still unmatched
        for p in stride(from: n - 1, through: 0, by: -1) {
            let message = chronological(p)
            if message.role == .assistant {
                for call in message.toolCalls {
                    for result in openResults.removeValue(forKey: call.id) ?? [] { match[result] = p }
                }
            }
            if message.role == .tool, let callID = message.toolCallID {
                openResults[callID, default: []].append(p)
            }
        }
        let limits = rules == .anthropic ? AnthropicLimits(seen.reversed().map(\.message)) : nil
        if let pending = limits?.pendingCall { return .toolsRunning(index: pending.index, callID: pending.callID) }
        if settling, let limits, !limits.pendingSettled { return .noCut(sum: 0) }
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
            let message = chronological(s)
            if let limits, s <= limits.barrier {
                if start == n, firstCut == nil { return .blocked }
                break
            }
            sum = Self.adding(sum, seen[n - 1 - s].tokens)
            if let m = match[s] { oldestNeeded = min(oldestNeeded, m) }
            guard message.role != .tool, oldestNeeded >= s, limits?.opensRequest[s] ?? true else { continue }
            if firstCut == nil { firstCut = (s, sum) }
            if sum > budget { break }
            start = s
            startSum = sum
        }
        if start == n {
            if let cut = firstCut, cut.sum > budget { return .exceeds(index: cut.index, sum: cut.sum) }
            if firstCut == nil { return .noCut(sum: sum) }
        }
        return .window(start: start, sum: startSum)
    }

    func finish(historyExhausted: Bool) throws -> (messages: [ChatMessage], tokens: Int, isWholeHistory: Bool) {
        let exhausted = historyExhausted && !decided
        let n = seen.count
        let chronological = { (p: Int) in seen[n - 1 - p].message }
        switch evaluate() {
        case .window(let start, let sum):
            return ((start..<n).map(chronological), sum, exhausted && start == 0)
        case .exceeds(let index, let sum):
            // Nothing fits: the newest unit is over the budget: report it rather than return an
            // empty window.
            throw ChatMemoryError.messageExceedsBudget(messageID: chronological(index).id, tokens: sum, budget: budget)
        case .noCut(let sum):
            // The newest unit's start lies beyond every message read (results whose calls were
            // not reached) and it is over the budget: report it. With the whole history read
            // (or within the budget), a newer orphan result rules out every window: empty.
            if sum > budget, !exhausted {
                throw ChatMemoryError.messageExceedsBudget(messageID: chronological(0).id, tokens: sum, budget: budget)
            }
            return ([], 0, exhausted && n == 0)
        case .blocked:
            return ([], 0, false)
        case .toolsRunning(let index, let callID):
            throw ChatMemoryError.toolCallUnanswered(messageID: chronological(index).id, toolCallID: callID)
        }
    }

    /// `sum + max(0, tokens)`, stopping at `Int.max` instead of overflowing (counts given to a
    /// builder are the caller's, whatever they are).
    static func adding(_ sum: Int, _ tokens: Int) -> Int {
        let (total, overflow) = sum.addingReportingOverflow(max(0, tokens))
        return overflow ? .max : total
    }
}
