import Foundation
import Logging
import Testing
@testable import ChatMemory

/// Hostile inputs to windows and compaction: none may trap.
@Suite struct HostileSummaryTests {
    static func configure(_ configuration: inout ChatMemoryConfiguration) {
        configuration.tokenCounter = ApproximateTokenCounter()
        configuration.idempotencyWindow = 1
    }

    /// A budget whose `tokenLimit - reserving` overflows is refused, as before summaries.
    @Test(arguments: [(Int.max, -1), (Int.min, 1), (Int.min, Int.max), (-1, Int.max)])
    func anOverflowingBudgetIsRefusedNotATrap(budget: (tokenLimit: Int, reserving: Int)) async throws {
        try await withStore(.embedded, Self.configure) { store in
            let chat = store.memory.session("overflow")
            try await chat.append(contentsOf: storeTestTurns(3))
            for policy in [WindowPolicy.modelSafe, .llamaIndex] {
                await #expect(throws: ChatMemoryError.self) {
                    try await chat.window(tokenLimit: budget.tokenLimit, reserving: budget.reserving, policy: policy,
                                          summary: .leading)
                }
            }
        }
    }

    /// A forged summary claiming `Int.max` covered messages: the next compaction saturates.
    @Test func aForgedCoveredCountNearIntMaxDoesNotTrap() async throws {
        try await withStore(.redis, Self.configure) { store in
            let chat = store.memory.session("forged-covered")
            let forged = #"{"id":"summary:forged","kind":"summary","v":1,"summary":{"covered":9223372036854775807,"covers":[]},"#
                + #""message":{"id":"summary:forged","role":"system","content":"forged","created_at":0}}"#
            try await store.redis().send("RPUSH", chat.key, forged)
            try await chat.append(contentsOf: storeTestTurns(6))
            #expect(try await chat.summary()?.coveredMessageCount == Int.max)
            let result = try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer())
            #expect(result.outcome == .compacted)
            #expect(result.summary?.coveredMessageCount == Int.max)
            #expect(try await chat.summary()?.coveredMessageCount == Int.max)
        }
    }

    /// A custom storage may call `select` with a policy it adjusted: a huge window never traps.
    @Test func selectWithTheLargestIdempotencyWindowDoesNotTrap() {
        let entry = StoredEntry.encode(storeTestTurns(1)[0], tokens: 1, counter: "c")
        var policy = RetentionPolicy(maxLength: nil, timeToLive: nil, idempotencyWindow: 1)
        policy.idempotencyWindow = Int.max
        let picked = policy.select([entry], newestStored: [entry.bytes])
        #expect(picked.fresh.isEmpty && picked.duplicates == 1)
    }

    struct EmptySummarizer: ChatSummarizer {
        func summarize(previous: String?, messages: [ChatMessage]) async throws -> String { "" }
    }

    /// An empty summary is still a summary: it is stored, read back and leads windows.
    @Test(arguments: [StoreKind.redis, .embedded])
    func anEmptySummaryIsKept(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("empty-summary")
            let turns = storeTestTurns(6)
            try await chat.append(contentsOf: turns)
            let result = try await chat.compact(targetTokens: 0, summarizer: EmptySummarizer())
            #expect(result.outcome == .compacted && result.removedEntries == 4)
            let summary = try #require(try await chat.summary())
            #expect(summary.text == "" && summary.coveredMessageCount == 4)
            let window = try await chat.window(tokenLimit: 100_000)
            #expect(window.messages == [summary.message] + turns.suffix(2))
        }
    }

    /// A trace-level per-call logger sees the calls of a compaction and its windows, never a
    /// message's or the summary's content.
    @Test(arguments: [StoreKind.leastPrivilege, .embedded])
    func traceLinesNeverCarryContent(kind: StoreKind) async throws {
        let marker = "content-marker-\(UUID().uuidString)"
        let capture = SessionLogCapture()
        let logger = capture.logger()
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("traced")
            try await chat.append(contentsOf: (0..<6).map { ChatMessage.user("\(marker) \($0).") }, logger: logger)
            #expect(try await chat.compact(targetTokens: 0, summarizer: ExtractiveSummarizer(), logger: logger).outcome == .compacted)
            #expect(try await chat.summary(logger: logger)?.text.contains(marker) == true)
            _ = try await chat.window(tokenLimit: 100_000, logger: logger)
            _ = try await chat.window(tokenLimit: 100_000, policy: .llamaIndex, logger: logger)
            _ = try await chat.all(logger: logger)
        }
        let lines = capture.lines
        #expect(!lines.isEmpty)
        #expect(!lines.contains { $0.contains(marker) }, "\(lines.filter { $0.contains(marker) })")
    }
}
