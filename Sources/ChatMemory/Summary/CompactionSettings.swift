/// How sessions are compacted: the lease every compactor takes, and the optional automatic mode.
///
/// ```swift
/// var configuration = ChatMemoryConfiguration()
/// configuration.compaction.automatic = AutomaticCompaction(
///     thresholdTokens: 6_000, targetTokens: 3_000, summarizer: MySummarizer())
/// ```
public struct CompactionSettings: Sendable {
    /// How long a compactor holds a session's lease at most (1 ms to ``leaseDurationLimit``): a
    /// compactor that dies leaves the session to the next one after this long. A summariser that
    /// takes longer may meet another compactor; the commit's compare-and-set keeps one of them.
    public var leaseDuration: Duration = .seconds(60)
    /// When set, an append that writes something schedules a check off the caller's path; a
    /// session over the threshold is compacted.
    public var automatic: AutomaticCompaction?
    /// Where folded messages go: an archive beside the session (the default), read by
    /// ``ChatSession/transcript(from:limit:logger:)``; `nil` drops them.
    public var archive: TranscriptArchive? = TranscriptArchive()

    public init() {}

    /// The longest ``leaseDuration``: one day.
    public static let leaseDurationLimit: Duration = .seconds(86_400)

    func validate() throws(ChatMemoryError) {
        guard (.milliseconds(1)...Self.leaseDurationLimit).contains(leaseDuration) else {
            throw .invalidConfiguration("compaction.leaseDuration must be from 1 ms to 1 day (got \(leaseDuration))")
        }
        if let automatic, automatic.thresholdTokens < 1 || !(0..<automatic.thresholdTokens).contains(automatic.targetTokens) {
            throw .invalidConfiguration("automatic compaction needs thresholdTokens >= 1 and targetTokens from 0 to thresholdTokens - 1 "
                + "(got \(automatic.thresholdTokens) and \(automatic.targetTokens))")
        }
        try archive?.validate()
    }
}

/// Compacts a session, in the background, once its stored tokens pass `thresholdTokens`.
///
/// Every append that writes something schedules a check of its session, off the caller's path:
/// the check reads the session and sums its stored counts, and when they exceed
/// `thresholdTokens` it compacts down to `targetTokens`. Checks of one session are coalesced
/// within a process (one runs, at most one waits), and every worker may check: the lease and
/// the compare-and-set keep their compactions apart. Failures are logged at `debug`, never thrown to the
/// appender. Keep the summary's size plus `targetTokens` under `thresholdTokens`.
public struct AutomaticCompaction: Sendable {
    /// Compact when the session's stored tokens (the summary included) exceed this.
    public var thresholdTokens: Int
    /// Fold the oldest messages until those that stay total at most this (see ``ChatSession/compact(targetTokens:summarizer:logger:)``).
    public var targetTokens: Int
    public var summarizer: any ChatSummarizer
    /// How many checks (and compactions) one process runs at once, over all sessions (at least 1);
    /// more wait their turn, so checks never crowd out the requests sharing the connections.
    public var maxConcurrentChecks = 2
    /// Runs and coalesces the checks; shared by every copy of this value.
    let scheduler = CompactionScheduler()

    public init(thresholdTokens: Int, targetTokens: Int, summarizer: any ChatSummarizer) {
        self.thresholdTokens = thresholdTokens
        self.targetTokens = targetTokens
        self.summarizer = summarizer
    }
}
