import Logging

/// What reading a transcript needs from a storage backend: one page of a session's messages by
/// position, the archive's and the session's read together (one atomic step, so a compaction
/// moving messages between them never shows one twice or hides it).
///
/// Internal: ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it. Over a ``ChatStorage``
/// of your own, a transcript is the session's entries alone.
protocol TranscriptStorage: ChatStorage {
    /// The page `request` asks for, at most `limit` (at least 1) messages.
    func transcriptSlice(_ key: [UInt8], request: TranscriptPlan.Request, limit: Int, logger: Logger) async throws -> TranscriptSlice

    /// How many messages the session's transcript archive holds (0 when it has none).
    func archiveLength(_ key: [UInt8], logger: Logger) async throws -> Int
}

/// The entries of one transcript page, as stored.
struct TranscriptSlice: Sendable {
    /// The positions of the page's messages (`start..<end`), and how many the transcript held.
    var start: Int, end: Int, total: Int
    /// The page's archived entries, oldest first.
    var archived: [[UInt8]]
    /// The page's entries of the session, oldest first (never its summary).
    var live: [[UInt8]]
    /// The session's summary entry, when the page holds the session's oldest message after it.
    var summary: [UInt8]?
}

/// Which entries a transcript page holds, from the sizes of the archive and the session: pure
/// arithmetic, mirrored by ``RedisChatStorage/transcriptScript``.
///
/// A transcript numbers messages from 0, oldest first: the archive's, then the session's (its
/// summary, at the session's oldest end, takes no position). Compaction moves the session's
/// oldest messages to the archive's end, so no message changes position; a cap that drops the
/// oldest (``ChatMemoryConfiguration/maxMessages``, ``TranscriptArchive/maxMessages``) moves
/// every later one down.
struct TranscriptPlan: Equatable {
    enum Request: Equatable, Sendable {
        /// The messages from this position on.
        case from(Int)
        /// The messages before this position (`nil`: the newest).
        case before(Int?)
    }

    /// The page's positions `start..<end`, and every message's count.
    let start: Int, end: Int, total: Int
    /// The archive's entries (oldest first, from 0) the page holds.
    let archived: Range<Int>
    /// The session's entries the page holds, by index oldest first (its summary, when it has
    /// one, is index 0).
    let live: Range<Int>
    /// Whether the page shows the summary: it holds the session's oldest message, or it ends the
    /// transcript where the session holds nothing else.
    let showsSummary: Bool

    init(archived: Int, sessionLength: Int, hasSummary: Bool, request: Request, limit: Int) {
        let summary = hasSummary && sessionLength > 0 ? 1 : 0
        total = archived + sessionLength - summary
        switch request {
        case .from(let position):
            start = min(max(0, position), total)
            end = start + min(limit, total - start)
        case .before(let position):
            end = min(max(0, position ?? total), total)
            start = end - min(limit, end)
        }
        self.archived = min(start, archived)..<min(end, archived)
        live = (max(start, archived) - archived + summary)..<(max(end, archived) - archived + summary)
        showsSummary = summary == 1 && start <= archived && (archived < end || end == total)
    }
}
