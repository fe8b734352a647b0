/// What a compaction did.
///
/// ```swift
/// let result = try await chat.compact(targetTokens: 2_000, summarizer: summarizer)
/// switch result.outcome {
/// case .compacted: print("folded \(result.removedEntries) entries into \(result.summary!.id)")
/// case .conflict: print("the session changed under us: nothing was written")
/// default: break
/// }
/// ```
public struct CompactionResult: Sendable, Hashable {
    /// How a compaction ended. More outcomes may come; switch with a `default`.
    public struct Outcome: Sendable, Hashable, CustomStringConvertible {
        public let description: String

        /// The summary was written and the messages it covers left the session.
        public static let compacted = Outcome(description: "compacted")
        /// The session is already within the target, or nothing may be folded (the newest
        /// `idempotencyWindow + 1` entries never are, nor a tool call without its results).
        public static let nothingToCompact = Outcome(description: "nothing to compact")
        /// Another compactor holds the session's lease; nothing was read or written.
        public static let leaseHeld = Outcome(description: "lease held")
        /// The messages picked were no longer the oldest when the summary was committed
        /// (another worker compacted, the session was cleared or trimmed): nothing changed.
        public static let conflict = Outcome(description: "conflict")
    }

    public var outcome: Outcome
    /// The new summary, when ``Outcome/compacted``.
    public var summary: ChatSummary?
    /// The entries that left: the folded messages, the previous summary, and any unreadable
    /// entries among them.
    public var removedEntries: Int
    /// The tokens of the messages that stayed (the summary not included), when a plan was made.
    public var keptTokens: Int?

    public init(outcome: Outcome, summary: ChatSummary? = nil, removedEntries: Int = 0, keptTokens: Int? = nil) {
        self.outcome = outcome
        self.summary = summary
        self.removedEntries = removedEntries
        self.keptTokens = keptTokens
    }
}
