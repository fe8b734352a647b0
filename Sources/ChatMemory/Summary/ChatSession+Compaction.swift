import Foundation
import Logging

extension ChatSession {
    /// Folds the session's oldest messages into its running summary, so that what stays totals
    /// at most `targetTokens` (the summary comes on top), and commits atomically.
    ///
    /// ```swift
    /// let result = try await chat.compact(targetTokens: 2_000, summarizer: summarizer)
    /// if result.outcome == .conflict { /* another worker compacted first: nothing changed */ }
    /// ```
    ///
    /// 1. Takes the session's lease (``CompactionSettings/leaseDuration``); when another
    ///    compactor holds it, returns ``CompactionResult/Outcome/leaseHeld``.
    /// 2. Reads the session and picks the oldest whole units (a tool call never apart from its
    ///    results) whose folding leaves at most `targetTokens`; the newest
    ///    `idempotencyWindow + 1` entries are never folded, so a retried append of a message
    ///    still finds it. Nothing to fold: ``CompactionResult/Outcome/nothingToCompact``.
    /// 3. Asks `summarizer` for the new summary (the previous one and the picked messages).
    /// 4. Commits in one script on the session's key: when the picked entries are still the
    ///    oldest, byte for byte, they leave and the summary takes their place at the oldest end;
    ///    otherwise nothing changes and the result is ``CompactionResult/Outcome/conflict``.
    ///    Appends running meanwhile land at the head and are never touched. With
    ///    ``CompactionSettings/archive`` (the default), the folded messages move to the session's
    ///    transcript archive in the same step (``transcript(from:limit:logger:)`` still reads them).
    /// 5. Gives the lease back (a compactor that dies leaves it to expire).
    ///
    /// Throws when the store fails, `targetTokens` is negative, or the summary is larger than
    /// ``ChatMemoryConfiguration/maxMessageBytes``; nothing was committed then, unless the
    /// commit's connection failed after it was sent (``summary(logger:)`` tells). Throws
    /// ``ChatMemoryError/Code/unsupportedByStorage`` over a ``ChatStorage`` of your own (only
    /// Redis and ``EmbeddedChatStorage`` hold leases and commit summaries).
    public func compact(targetTokens: Int, summarizer: any ChatSummarizer, logger: Logger? = nil) async throws -> CompactionResult {
        guard targetTokens >= 0 else {
            throw ChatMemoryError.invalidConfiguration("compact(targetTokens:) needs a target of at least 0 (got \(targetTokens))")
        }
        guard let storage = storage as? any CompactionStorage else {
            throw ChatMemoryError.unsupportedByStorage("compaction needs Redis or EmbeddedChatStorage (\(type(of: self.storage)) has no lease and summary commit)")
        }
        let logger = callLogger(logger)
        return try await tracing.span("chat.compact", session: id, attributes: ["chat.target_tokens": targetTokens]) { record in
            let result = try await compact(in: storage, targetTokens: targetTokens, summarizer: summarizer, logger: logger)
            record("chat.compact.removed_entries", result.removedEntries)
            logger.debug("compaction finished", metadata: ["chat.compact.outcome": "\(result.outcome)",
                                                           "chat.compact.removed_entries": "\(result.removedEntries)"])
            return result
        }
    }

    private func compact(in storage: some CompactionStorage, targetTokens: Int, summarizer: any ChatSummarizer,
                         logger: Logger) async throws -> CompactionResult {
        let lease = Self.leaseKey(of: key)
        let token = Array(RandomUUID.string().utf8)
        guard try await storage.acquireLease(lease, token: token, duration: configuration.compaction.leaseDuration, logger: logger) else {
            return CompactionResult(outcome: .leaseHeld)
        }
        do {
            let result = try await compactHoldingLease(storage, targetTokens: targetTokens, summarizer: summarizer, logger: logger)
            await releaseLease(storage, lease, token: token, logger: logger)
            return result
        } catch {
            await releaseLease(storage, lease, token: token, logger: logger)
            throw error
        }
    }

    /// The session's summary: its oldest entry, when that is one.
    public func summary(logger: Logger? = nil) async throws -> ChatSummary? {
        guard let bytes = try await storage.range(key, start: -1, stop: -1, logger: callLogger(logger)).first,
              let decoded = StoredEntry.decode(bytes) else { return nil }
        return ChatSummary(decoded, tokens: tokens(of: decoded))
    }

    /// The key of a session's compaction lease: `lease:` before the session's key. It is not a
    /// session key (any key under the prefix could be one), `SCAN ... TYPE list` never lists it,
    /// and ``RedisChatMemory/aclRules(keyPrefix:)`` covers it.
    static func leaseKey(of sessionKey: [UInt8]) -> [UInt8] {
        Array("lease:".utf8) + sessionKey
    }

    /// The newest entries a compaction never folds: a retried append finds its newest message
    /// among the newest `batch + idempotencyWindow` entries, so those stay messages.
    var protectedEntries: Int { configuration.idempotencyWindow + 1 }

    private func compactHoldingLease(_ storage: some CompactionStorage, targetTokens: Int, summarizer: any ChatSummarizer,
                                     logger: Logger) async throws -> CompactionResult {
        let stored = Array(try await storage.range(key, start: 0, stop: -1, logger: logger).reversed())
        var planned: [CompactionPlan.Entry] = []
        var decodedEntries: [StoredEntry.Decoded?] = []
        planned.reserveCapacity(stored.count)
        for (index, bytes) in stored.enumerated() {
            let decoded = StoredEntry.decode(bytes)
            decodedEntries.append(decoded)
            planned.append(CompactionPlan.Entry(message: decoded?.message, tokens: decoded.map(tokens(of:)) ?? 0,
                                                isSummary: index == 0 && decoded?.summary != nil))
        }
        guard let plan = CompactionPlan.make(planned, targetTokens: targetTokens, protected: protectedEntries) else {
            return CompactionResult(outcome: .nothingToCompact)
        }
        let previous = planned.first?.isSummary == true ? decodedEntries[0].flatMap { ChatSummary($0, tokens: 0) } : nil
        let firstFolded = previous == nil ? 0 : 1
        let folded = decodedEntries[firstFolded..<plan.foldedCount].compactMap { $0?.message }

        let text = try await summarizer.summarize(previous: previous?.text, messages: folded)
        let counter = configuration.tokenCounter
        var summary = ChatSummary(id: "summary:" + RandomUUID.string(), text: text, tokens: 0,
                                  coveredMessageIDs: folded.map(\.id), replacedSummaryID: previous?.id,
                                  coveredMessageCount: ModelSafeWindow.adding(previous?.coveredMessageCount ?? 0, folded.count),
                                  createdAt: ChatMessage.millisecondDate(Date()))
        let bytes = summary.message.textBytes
        guard bytes <= configuration.maxMessageBytes else {
            throw ChatMemoryError.messageTooLarge(messageID: summary.id, bytes: bytes, limit: configuration.maxMessageBytes)
        }
        summary.tokens = counter.count(summary.message)
        let entry = SummaryMetadata.encode(summary, counter: counter.identifier)
        // A summary entry stays out of the archive, by the rule the transcript reads it with.
        let archive = configuration.compaction.archive.map {
            ArchiveWrite(skipping: StoredEntry.isSummaryEntry(stored[0]) ? 1 : 0, maxMessages: $0.maxMessages,
                         timeToLive: $0.timeToLive ?? configuration.timeToLive)
        }
        let committed = try await storage.commitSummary(key, replacing: Array(stored[..<plan.foldedCount]), with: entry,
                                                        keep: protectedEntries, archive: archive, logger: logger)
        guard committed else { return CompactionResult(outcome: .conflict, keptTokens: plan.keptTokens) }
        await keepOwnerListWithArchive(logger: logger)
        return CompactionResult(outcome: .compacted, summary: summary, removedEntries: plan.foldedCount, keptTokens: plan.keptTokens)
    }

    /// After a commit into an archive with its own time to live: the owner's list must name the
    /// session as long as the archive lives. Best effort (the commit stands; the next write or
    /// compaction extends the list again).
    private func keepOwnerListWithArchive(logger: Logger) async {
        guard configuration.compaction.archive?.timeToLive != nil, let ownerKey, let timeToLive = ownerListTimeToLive,
              let index = storage as? any ConversationIndexStorage else { return }
        do {
            try await index.refreshConversationIndex(owner: ownerKey, to: timeToLive, logger: logger)
        } catch {
            logger.debug("could not extend the owner's list after compaction", metadata: ["error": "\(error)"])
        }
    }

    /// Gives up a lease (compaction's, or a turn's); one that cannot be released expires by itself.
    /// In a task of its own, so a cancelled caller (whose own requests are refused unsent) still
    /// lets it go at once rather than leaving its retries to wait until it ends.
    func releaseLease(_ storage: some CompactionStorage, _ lease: [UInt8], token: [UInt8], logger: Logger) async {
        do {
            try await Task { try await storage.releaseLease(lease, token: token, logger: logger) }.value
        } catch {
            logger.debug("could not release the lease; it expires by itself",
                         metadata: ["error": "\(error)"])
        }
    }

    /// The session's stored tokens (the summary included) and whether they exceed `threshold`.
    func storedTokens(logger: Logger) async throws -> Int {
        var total = 0
        for bytes in try await storage.readEntries(key, start: 0, stop: -1, logger: logger) {
            if let decoded = StoredEntry.decode(bytes) { total = ModelSafeWindow.adding(total, tokens(of: decoded)) }
        }
        return total
    }
}
