import Logging

extension EmbeddedChatStorage: TranscriptStorage {
    func archiveLength(_ key: [UInt8], logger: Logger) async throws -> Int {
        withLists { archives[key]?.entries.count ?? 0 }
    }

    func transcriptSlice(_ key: [UInt8], request: TranscriptPlan.Request, limit: Int, logger: Logger) async throws -> TranscriptSlice {
        withLists {
            let archived = archives[key]?.entries ?? []
            let oldestFirst = Array((lists[key]?.entries ?? []).reversed())
            let hasSummary = oldestFirst.first.map(StoredEntry.isSummaryEntry) ?? false
            let plan = TranscriptPlan(archived: archived.count, sessionLength: oldestFirst.count, hasSummary: hasSummary,
                                      request: request, limit: limit)
            return TranscriptSlice(start: plan.start, end: plan.end, total: plan.total, archived: Array(archived[plan.archived]),
                                   live: Array(oldestFirst[plan.live]), summary: plan.showsSummary ? oldestFirst.first : nil)
        }
    }
}
