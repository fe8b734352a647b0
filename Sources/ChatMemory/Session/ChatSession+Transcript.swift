import Logging

/// One entry of a session's transcript.
public enum TranscriptEntry: Sendable, Hashable {
    /// A message; `archived` when compaction moved it to the session's archive (windows see the
    /// summary in its place).
    case message(ChatMessage, archived: Bool)
    /// The session's running summary, just before the oldest message windows still see.
    case summary(ChatSummary)
}

/// One page of a session's transcript (``ChatSession/transcript(from:limit:logger:)``).
public struct TranscriptPage: Sendable, Hashable {
    /// The page's entries, oldest first.
    public var entries: [TranscriptEntry]
    /// The positions of the page's messages (the summary takes none), oldest first from 0.
    public var positions: Range<Int>
    /// How many messages the transcript held when the page was read.
    public var total: Int
    /// Entries of the page that are not chat messages (foreign or broken), skipped; they keep
    /// their positions.
    public var skippedEntries: Int

    /// The `from` of the page after this one; `nil` when this one ends the transcript.
    public var next: Int? { positions.upperBound < total ? positions.upperBound : nil }
    /// The `before` of the page before this one; `nil` when this one starts the transcript.
    public var previous: Int? { positions.lowerBound > 0 ? positions.lowerBound : nil }

    /// The page's messages, oldest first, without the summary.
    public var messages: [ChatMessage] {
        entries.compactMap { if case .message(let message, _) = $0 { message } else { nil } }
    }
}

extension ChatSession {
    /// The most messages one transcript page may hold.
    public static let maxTranscriptPage = 1000

    /// The whole conversation, for display: up to `limit` messages from `position` on, oldest
    /// first: those compaction archived, then the session's, with its summary marked where it
    /// stands.
    ///
    /// ```swift
    /// var page = try await chat.transcript(limit: 100)          // from the first message
    /// while let next = page.next { page = try await chat.transcript(from: next, limit: 100) }
    /// ```
    ///
    /// Positions count messages from 0, oldest first. Compaction moves messages from the session
    /// to its archive without changing their positions, so paging while it runs neither repeats
    /// nor skips one; a cap that drops the oldest messages (``ChatMemoryConfiguration/maxMessages``,
    /// ``TranscriptArchive/maxMessages``) moves the later ones down by as many, as does an archive
    /// that expires (its own ``TranscriptArchive/timeToLive``) or a compaction that archives
    /// nothing (``CompactionSettings/archive`` `nil`). Each page is read
    /// in one atomic step (in Redis one script on the session's slot) and never reads more of the
    /// session than the page. `position` is at least 0; `limit` is 1 to ``maxTranscriptPage``.
    /// Over a ``ChatStorage`` of your own, the transcript is the session alone, read whole.
    public func transcript(from position: Int = 0, limit: Int = 50, logger: Logger? = nil) async throws -> TranscriptPage {
        guard position >= 0 else {
            throw ChatMemoryError.invalidConfiguration("transcript(from:) needs a position of at least 0 (got \(position))")
        }
        return try await transcript(.from(position), limit: limit, logger: logger)
    }

    /// Up to `limit` messages just before `position` (`nil`: the newest), oldest first: the
    /// newest 50 for a chat screen, then the 50 before the first one shown, and so on, each read
    /// without the rest. Otherwise as ``transcript(from:limit:logger:)``.
    ///
    /// ```swift
    /// let newest = try await chat.transcript(before: nil, limit: 50)
    /// if let earlier = newest.previous { let older = try await chat.transcript(before: earlier, limit: 50) }
    /// ```
    public func transcript(before position: Int?, limit: Int = 50, logger: Logger? = nil) async throws -> TranscriptPage {
        if let position, position < 0 {
            throw ChatMemoryError.invalidConfiguration("transcript(before:) needs a position of at least 0 (got \(position))")
        }
        return try await transcript(.before(position), limit: limit, logger: logger)
    }

    private func transcript(_ request: TranscriptPlan.Request, limit: Int, logger: Logger?) async throws -> TranscriptPage {
        guard (1...Self.maxTranscriptPage).contains(limit) else {
            throw ChatMemoryError.invalidConfiguration("a transcript page holds 1 to \(Self.maxTranscriptPage) messages (got \(limit))")
        }
        let logger = callLogger(logger)
        let slice: TranscriptSlice
        if let storage = storage as? any TranscriptStorage {
            slice = try await storage.transcriptSlice(key, request: request, limit: limit, logger: logger)
        } else {
            slice = try await sessionOnlySlice(request, limit: limit, logger: logger)
        }
        try await refreshAfterRead(logger: logger)
        var entries: [TranscriptEntry] = []
        entries.reserveCapacity(slice.archived.count + slice.live.count + 1)
        var skipped = 0
        for bytes in slice.archived {
            if let decoded = StoredEntry.decode(bytes) { entries.append(.message(decoded.message, archived: true)) } else { skipped += 1 }
        }
        if let bytes = slice.summary {
            if let decoded = StoredEntry.decode(bytes), let summary = ChatSummary(decoded, tokens: tokens(of: decoded)) {
                entries.append(.summary(summary))
            } else {
                skipped += 1
            }
        }
        for bytes in slice.live {
            if let decoded = StoredEntry.decode(bytes) { entries.append(.message(decoded.message, archived: false)) } else { skipped += 1 }
        }
        reportSkipped(skipped, logger: logger)
        return TranscriptPage(entries: entries, positions: slice.start..<slice.end, total: slice.total, skippedEntries: skipped)
    }

    /// A transcript page of a storage that keeps no archive: the session's entries, read whole.
    private func sessionOnlySlice(_ request: TranscriptPlan.Request, limit: Int, logger: Logger) async throws -> TranscriptSlice {
        let oldestFirst = Array(try await storage.range(key, start: 0, stop: -1, logger: logger).reversed())
        let hasSummary = oldestFirst.first.map(StoredEntry.isSummaryEntry) ?? false
        let plan = TranscriptPlan(archived: 0, sessionLength: oldestFirst.count, hasSummary: hasSummary, request: request, limit: limit)
        return TranscriptSlice(start: plan.start, end: plan.end, total: plan.total, archived: [],
                               live: Array(oldestFirst[plan.live]), summary: plan.showsSummary ? oldestFirst.first : nil)
    }
}
