/// Where compaction puts what it folds: an archive beside the session, so the whole conversation
/// stays readable (``ChatSession/transcript(from:limit:logger:)``) while windows see the summary.
///
/// ```swift
/// var configuration = ChatMemoryConfiguration()
/// configuration.compaction.archive = TranscriptArchive(maxMessages: 50_000, timeToLive: .seconds(90 * 86_400))
/// configuration.compaction.archive = nil // compaction drops what it folds
/// ```
///
/// In Redis the archive is the list `archive:{tag}` followed by the session's key, oldest message
/// first, in the session's Redis Cluster slot. Compaction moves the folded messages into it in the
/// same atomic step that writes the summary (a summary it replaces is not archived: the archive
/// holds messages). Windows never read it. Clearing the session deletes it.
public struct TranscriptArchive: Sendable, Hashable {
    /// Keep at most this many messages in the archive (1 to ``ChatMemoryConfiguration/maxMessagesLimit``);
    /// each compaction drops the oldest beyond it. `nil` keeps all.
    public var maxMessages: Int?
    /// How long the archive lives after the latest compaction wrote to it (1 ms to
    /// ``ChatMemoryConfiguration/timeToLiveLimit``). `nil`, the default, gives it the session's
    /// ``ChatMemoryConfiguration/timeToLive`` at every compaction (and, with sliding expiry, at
    /// every read), and none when sessions never expire. Appends do not refresh it (the append
    /// script names only the session and its id index, so it keeps working while a Redis Cluster
    /// slot migrates): a session written for longer than its time to live without being
    /// compacted outlives its archive. Give the archive a longer time to live if that matters.
    public var timeToLive: Duration?

    public init(maxMessages: Int? = nil, timeToLive: Duration? = nil) {
        self.maxMessages = maxMessages
        self.timeToLive = timeToLive
    }

    func validate() throws(ChatMemoryError) {
        if let maxMessages, !(1...ChatMemoryConfiguration.maxMessagesLimit).contains(maxMessages) {
            throw .invalidConfiguration("compaction.archive.maxMessages must be from 1 to \(ChatMemoryConfiguration.maxMessagesLimit) (got \(maxMessages))")
        }
        if let timeToLive, !(.milliseconds(1)...ChatMemoryConfiguration.timeToLiveLimit).contains(timeToLive) {
            throw .invalidConfiguration("compaction.archive.timeToLive must be from 1 ms to 100 years (got \(timeToLive))")
        }
    }
}
