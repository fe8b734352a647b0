import Foundation
import Testing
@testable import ChatMemory

@Suite struct AutomaticCompactionTests {
    @Test(arguments: StoreKind.allCases)
    func appendsOverTheThresholdCompactOffTheCallersPath(kind: StoreKind) async throws {
        let automatic = AutomaticCompaction(thresholdTokens: 150, targetTokens: 60, summarizer: CountingSummarizer())
        try await withStore(kind, {
            $0.tokenCounter = ApproximateTokenCounter()
            $0.idempotencyWindow = 2
            $0.compaction.automatic = automatic
        }) { store in
            let chat = store.memory.session("auto")
            let turns = storeTestTurns(60)
            for turn in turns { try await chat.append(turn) }
            await automatic.scheduler.idle()
            let summary = try #require(try await chat.summary())
            let present = try await chat.messagesWithoutSummary()
            #expect(summary.coveredMessageCount + present.count == turns.count)
            #expect(present == Array(turns.suffix(present.count)))
            #expect(summary.text == "messages folded: \(summary.coveredMessageCount)")
            #expect(try await chat.storedTokens(logger: chat.logger) <= 150)
        }
    }

    /// With one check at a time in all, every session still gets its check, in turn.
    @Test(arguments: [StoreKind.redis, .embedded])
    func checksOfManySessionsWaitTheirTurn(kind: StoreKind) async throws {
        var automatic = AutomaticCompaction(thresholdTokens: 100, targetTokens: 30, summarizer: CountingSummarizer())
        automatic.maxConcurrentChecks = 1
        try await withStore(kind, {
            $0.tokenCounter = ApproximateTokenCounter()
            $0.idempotencyWindow = 1
            $0.compaction.automatic = automatic
        }) { store in
            let chats = try (0..<8).map { store.memory.session(try SessionID("many-\($0)")) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chat in chats {
                    group.addTask { for turn in storeTestTurns(20) { try await chat.append(turn) } }
                }
                try await group.waitForAll()
            }
            await automatic.scheduler.idle()
            for chat in chats {
                let summary = try #require(try await chat.summary())
                #expect(try await summary.coveredMessageCount + chat.messagesWithoutSummary().count == 20)
                #expect(try await chat.storedTokens(logger: chat.logger) <= 100)
            }
        }
    }

    @Test func settingsAreChecked() throws {
        for (threshold, target) in [(0, 0), (10, 10), (10, -1), (Int.min, 0)] {
            var configuration = ChatMemoryConfiguration()
            configuration.compaction.automatic = AutomaticCompaction(thresholdTokens: threshold, targetTokens: target, summarizer: CountingSummarizer())
            #expect(throws: ChatMemoryError.self) { try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration) }
        }
        for lease in [Duration.zero, .seconds(-1), .seconds(86_401)] {
            var configuration = ChatMemoryConfiguration()
            configuration.compaction.leaseDuration = lease
            #expect(throws: ChatMemoryError.self) { try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration) }
        }
    }
}
