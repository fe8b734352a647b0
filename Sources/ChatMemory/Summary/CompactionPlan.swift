/// Which oldest entries a compaction folds: pure, so it is tested on its own.
///
/// Entries are oldest first. A summary at index 0 is always folded with them. The fold ends at a
/// *cut*: no tool result at or after the cut answers a call made before it, so a tool call never
/// leaves apart from its results. The newest `protected` entries are never folded. Of the cuts
/// allowed, the plan takes the oldest one that leaves at most `targetTokens` after it, or else
/// the newest one allowed (folding as much as it may).
struct CompactionPlan: Equatable {
    /// How many oldest entries leave (the previous summary included).
    var foldedCount: Int
    /// The tokens of the entries that stay.
    var keptTokens: Int

    struct Entry {
        var message: ChatMessage?
        var tokens: Int
        var isSummary: Bool
    }

    /// `nil` when nothing needs to, or may, be folded: the session is already within
    /// `targetTokens`, or no cut lies within the entries that may be folded.
    static func make(_ entries: [Entry], targetTokens: Int, protected: Int) -> CompactionPlan? {
        let start = entries.first?.isSummary == true ? 1 : 0
        let lastCut = entries.count - max(1, protected)
        guard lastCut > start else { return nil }

        // kept[c]: the tokens of entries c..<count.
        var kept = [Int](repeating: 0, count: entries.count + 1)
        for index in stride(from: entries.count - 1, through: 0, by: -1) {
            kept[index] = ModelSafeWindow.adding(kept[index + 1], entries[index].tokens)
        }
        guard kept[start] > targetTokens else { return nil }

        // A result at r answering a call at a (start <= a < r) forbids the cuts a+1...r.
        var forbidden = [Int](repeating: 0, count: entries.count + 2)
        var callAt: [String: Int] = [:]
        for index in start..<entries.count {
            guard let message = entries[index].message else { continue }
            if message.role == .tool, let callID = message.toolCallID, let call = callAt[callID] {
                forbidden[call + 1] += 1
                forbidden[index + 1] -= 1
            }
            if message.role == .assistant {
                for call in message.toolCalls { callAt[call.id] = index }
            }
        }
        var open = 0
        var newestAllowed: Int?
        for cut in 1...lastCut {
            open += forbidden[cut]
            guard cut > start, open == 0 else { continue }
            if kept[cut] <= targetTokens { return CompactionPlan(foldedCount: cut, keptTokens: kept[cut]) }
            newestAllowed = cut
        }
        return newestAllowed.map { CompactionPlan(foldedCount: $0, keptTokens: kept[$0]) }
    }
}
