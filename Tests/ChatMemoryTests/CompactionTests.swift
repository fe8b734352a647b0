import Foundation
import Testing
@testable import ChatMemory

@Suite struct CompactionTests {
    static func configure(_ configuration: inout ChatMemoryConfiguration) {
        configuration.tokenCounter = ApproximateTokenCounter()
        configuration.idempotencyWindow = 2
    }

    @Test(arguments: StoreKind.allCases)
    func compactionFoldsTheOldestMessagesIntoOneSummaryAtTheOldestEnd(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("fold")
            let turns = storeTestTurns(20)
            try await chat.append(contentsOf: turns)
            let counted = try await chat.inspect().messages
            let target = counted.suffix(6).map(\.tokens).reduce(0, +)
            let summarizer = JoiningSummarizer()

            let result = try await chat.compact(targetTokens: target, summarizer: summarizer)
            #expect(result.outcome == .compacted)
            #expect(result.removedEntries == 14 && result.keptTokens == target)
            let summary = try #require(result.summary)
            #expect(summary.coveredMessageIDs == turns.prefix(14).map(\.id))
            #expect(summary.replacedSummaryID == nil && summary.coveredMessageCount == 14)
            #expect(summarizer.calls.count == 1 && summarizer.calls[0].previous == nil)
            #expect(try await chat.summary() == summary)
            #expect(try await chat.all() == [summary.message] + turns.suffix(6))
            #expect(try await chat.count() == 7)

            // The next compaction folds the summary with the next messages.
            let second = try await chat.compact(targetTokens: 0, summarizer: summarizer)
            #expect(second.outcome == .compacted)
            let next = try #require(second.summary)
            #expect(next.replacedSummaryID == summary.id && next.coveredMessageIDs == turns[14..<17].map(\.id))
            #expect(next.coveredMessageCount == 17)
            #expect(summarizer.calls[1].previous == summary.text)
            #expect(try await chat.all() == [next.message] + turns.suffix(3))
            // The newest idempotencyWindow + 1 messages are never folded.
            #expect(try await chat.compact(targetTokens: 0, summarizer: summarizer).outcome == .nothingToCompact)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSessionWithinItsTargetIsLeftAlone(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("small")
            let summarizer = JoiningSummarizer()
            #expect(try await chat.compact(targetTokens: 0, summarizer: summarizer).outcome == .nothingToCompact)
            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 100_000, summarizer: summarizer).outcome == .nothingToCompact)
            #expect(summarizer.calls.isEmpty)
            #expect(try await chat.count() == 10)
            await #expect(throws: ChatMemoryError.self) { try await chat.compact(targetTokens: -1, summarizer: summarizer) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aToolCallNeverLeavesApartFromItsResults(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("tools")
            let calls = [ChatMessage.ToolCall(id: "c1", name: "a", arguments: "{}"), .init(id: "c2", name: "b", arguments: "{}")]
            let history: [ChatMessage] = [
                ChatMessage(id: "u1", role: .user, content: "go"),
                ChatMessage(id: "a1", role: .assistant, content: nil, toolCalls: calls),
                ChatMessage(id: "t1", role: .tool, content: "one", toolCallID: "c1"),
                ChatMessage(id: "x1", role: .tool, content: "orphan", toolCallID: "gone"),
                ChatMessage(id: "t2", role: .tool, content: "two", toolCallID: "c2"),
                ChatMessage(id: "a2", role: .assistant, content: "done"),
                ChatMessage(id: "u2", role: .user, content: "more"),
                ChatMessage(id: "a3", role: .assistant, content: "ok"),
                ChatMessage(id: "u3", role: .user, content: "end"),
            ]
            try await chat.append(contentsOf: history)
            let tokens = try await chat.inspect().messages.map(\.tokens)
            // A target met by cutting between t1 and t2 folds the whole tool unit instead.
            let target = tokens[3...].reduce(0, +)
            let result = try await chat.compact(targetTokens: target, summarizer: JoiningSummarizer())
            #expect(result.summary?.coveredMessageIDs == ["u1", "a1", "t1", "x1", "t2"])
            #expect(try await chat.messagesWithoutSummary().map(\.id) == ["a2", "u2", "a3", "u3"])
        }
    }

    @Test func thePlanNeverCutsAToolUnitAndKeepsTheProtectedEntries() {
        func entry(_ message: ChatMessage, _ tokens: Int = 10) -> CompactionPlan.Entry {
            CompactionPlan.Entry(message: message, tokens: tokens, isSummary: false)
        }
        let call = ChatMessage(id: "a", role: .assistant, content: nil, toolCalls: [.init(id: "c", name: "n", arguments: "")])
        let entries = [entry(.user("u")), entry(call), entry(.tool("r", callID: "c")), entry(.user("v")), entry(.user("w"))]
        #expect(CompactionPlan.make(entries, targetTokens: 25, protected: 1) == CompactionPlan(foldedCount: 3, keptTokens: 20))
        #expect(CompactionPlan.make(entries, targetTokens: 100, protected: 1) == nil)
        // Only the cut before the call is allowed within the newest 3 protected: fold 1.
        #expect(CompactionPlan.make(entries, targetTokens: 0, protected: 3) == CompactionPlan(foldedCount: 1, keptTokens: 40))
        #expect(CompactionPlan.make(entries, targetTokens: 0, protected: 5) == nil)
        #expect(CompactionPlan.make(entries, targetTokens: 0, protected: 0) == CompactionPlan(foldedCount: 4, keptTokens: 10))
        let summary = CompactionPlan.Entry(message: .system("s"), tokens: 5, isSummary: true)
        #expect(CompactionPlan.make([summary] + entries.prefix(2), targetTokens: 0, protected: 1) == CompactionPlan(foldedCount: 2, keptTokens: 10))
        #expect(CompactionPlan.make([summary, entries[0]], targetTokens: 0, protected: 1) == nil)
        #expect(CompactionPlan.make([], targetTokens: 0, protected: 1) == nil)
        let huge = [entry(.user("a"), .max), entry(.user("b"), .max), entry(.user("c"), 1)]
        #expect(CompactionPlan.make(huge, targetTokens: 1, protected: 1) == CompactionPlan(foldedCount: 2, keptTokens: 1))
    }

    @Test(arguments: StoreKind.allCases)
    func aCommitAfterTheSessionChangedChangesNothing(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("conflict")
            try await chat.append(contentsOf: storeTestTurns(12))
            let replacement = storeTestTurns(12, label: "after clear")
            let cleared = InterferingSummarizer {
                try await chat.clear()
                try await chat.append(contentsOf: replacement)
            }
            #expect(try await chat.compact(targetTokens: 0, summarizer: cleared).outcome == .conflict)
            #expect(try await chat.all() == replacement)

            // Another compactor committing first (as one whose lease expired would): conflict.
            let other = InterferingSummarizer {
                let committed = try await chat.compactIgnoringLease(targetTokens: 0)
                #expect(committed)
            }
            let before = try await chat.count()
            #expect(try await chat.compact(targetTokens: 0, summarizer: other).outcome == .conflict)
            #expect(try await chat.summary()?.text == "by the other")
            #expect(try await chat.count() == before - 9 + 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oneCompactorAtATime(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("lease")
            try await chat.append(contentsOf: storeTestTurns(12))
            let inner = SummaryTestBox<CompactionResult?>(nil)
            let nested = InterferingSummarizer {
                let result = try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer())
                inner.update { $0 = result }
            }
            #expect(try await chat.compact(targetTokens: 0, summarizer: nested).outcome == .compacted)
            #expect(inner.value?.outcome == .leaseHeld)
            // The lease was given back.
            try await chat.append(contentsOf: storeTestTurns(4, label: "more"))
            #expect(try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer()).outcome == .compacted)
            // The lease key is no session.
            #expect(try await store.memory.sessions().collected() == [chat.id])
        }
    }

    /// A compactor that dies between summarising and committing (its task abandoned with the
    /// lease held) blocks the session only until the lease expires; when it comes back late,
    /// its commit is refused.
    @Test(arguments: StoreKind.allCases)
    func aCompactorKilledMidwayLeavesTheSessionConsistent(kind: StoreKind) async throws {
        try await withStore(kind, {
            Self.configure(&$0)
            $0.compaction.leaseDuration = .milliseconds(300)
        }) { store in
            let chat = store.memory.session("killed")
            let turns = storeTestTurns(12)
            try await chat.append(contentsOf: turns)
            let stalled = StalledSummarizer()
            let zombie = Task { try await chat.compact(targetTokens: 0, summarizer: stalled) }
            await stalled.waitUntilEntered()
            #expect(try await chat.all() == turns)

            let summarizer = JoiningSummarizer()
            var result = try await chat.compact(targetTokens: 0, summarizer: summarizer)
            while result.outcome == .leaseHeld {
                try await Task.sleep(for: .milliseconds(50))
                result = try await chat.compact(targetTokens: 0, summarizer: summarizer)
            }
            #expect(result.outcome == .compacted)
            let summary = try #require(result.summary)
            #expect(try await chat.all() == [summary.message] + turns.suffix(3))

            stalled.release()
            #expect(try await zombie.value.outcome == .conflict)
            #expect(try await chat.all() == [summary.message] + turns.suffix(3))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRetriedAppendOfTheNewestMessagesStaysANoOpAfterCompaction(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("retry")
            try await chat.append(contentsOf: storeTestTurns(10, label: "old"))
            let batch = storeTestTurns(5, label: "batch")
            try await chat.append(contentsOf: batch)
            let others = storeTestTurns(2, label: "other")
            try await chat.append(contentsOf: others)
            #expect(try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer()).outcome == .compacted)
            let retry = try await chat.append(contentsOf: batch)
            #expect(retry.appended == 0 && retry.duplicates == 5)
            #expect(try await chat.messagesWithoutSummary().suffix(2) == others)
        }
    }

    @Test(arguments: [StoreKind.redis, .embedded])
    func compactionKeepsTheTimeToLive(kind: StoreKind) async throws {
        try await withStore(kind, {
            Self.configure(&$0)
            $0.timeToLive = .seconds(3_600)
        }) { store in
            let chat = store.memory.session("ttl")
            try await chat.append(contentsOf: storeTestTurns(12))
            #expect(try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer()).outcome == .compacted)
            let ttl = try #require(try await chat.timeToLive())
            #expect(ttl > .seconds(3_000))
        }
    }

    @Test func aSummaryLargerThanTheMessageLimitIsRefused() async throws {
        try await withStore(.embedded, {
            Self.configure(&$0)
            $0.maxMessageBytes = 100
        }) { store in
            let chat = store.memory.session("large")
            try await chat.append(contentsOf: storeTestTurns(12))
            let wordy = InterferingSummarizer {}
            await #expect(throws: ChatMemoryError.self) {
                try await chat.compact(targetTokens: 0, summarizer: WordySummarizer(base: wordy))
            }
            #expect(try await chat.count() == 12)
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
        }
    }
}

struct WordySummarizer: ChatSummarizer {
    let base: any ChatSummarizer
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        try await base.summarize(previous: previous, messages: messages) + String(repeating: "w", count: 200)
    }
}

extension ChatSession {
    /// Commits a summary of everything foldable without taking the lease: a compactor whose
    /// lease expired while it summarised.
    func compactIgnoringLease(targetTokens: Int) async throws -> Bool {
        let storage = try #require(storage as? any CompactionStorage)
        let stored = Array(try await storage.range(key, start: 0, stop: -1, logger: logger).reversed())
        let entries = stored.map { bytes in
            let decoded = StoredEntry.decode(bytes)
            return CompactionPlan.Entry(message: decoded?.message, tokens: decoded.map(tokens(of:)) ?? 0, isSummary: decoded?.summary != nil)
        }
        guard let plan = CompactionPlan.make(entries, targetTokens: targetTokens, protected: protectedEntries) else { return false }
        let summary = ChatSummary(id: "summary:other", text: "by the other", tokens: 5, coveredMessageIDs: [], replacedSummaryID: nil,
                                  coveredMessageCount: 0, createdAt: Date())
        return try await storage.commitSummary(key, replacing: Array(stored[..<plan.foldedCount]),
                                               with: SummaryMetadata.encode(summary, counter: "x"), keep: protectedEntries, archive: nil,
                                               logger: logger)
    }
}

/// A ``ChatStorage`` of the user's own (public API only) has no lease nor summary commit.
@Suite struct CustomStorageCompactionTests {
    @Test func aStorageOfYourOwnCannotCompactButItsSummaryLeadsItsWindows() async throws {
        var configuration = ChatMemoryConfiguration()
        configuration.tokenCounter = ApproximateTokenCounter()
        configuration.idempotencyWindow = 1
        let automatic = AutomaticCompaction(thresholdTokens: 10, targetTokens: 0, summarizer: JoiningSummarizer())
        configuration.compaction.automatic = automatic
        let storage = DictionaryStorage()
        let memory = try RedisChatMemory(storage: storage, configuration: configuration)
        let chat = memory.session("custom")
        // A summary another tool wrote, at the oldest end, then the conversation.
        let summary = ChatSummary(id: "summary:custom", text: "what came before", tokens: 0, coveredMessageIDs: ["m0"],
                                  replacedSummaryID: nil, coveredMessageCount: 1, createdAt: Date(timeIntervalSince1970: 0))
        let entry = SummaryMetadata.encode(summary, counter: "other")
        let prefix = try #require(ChatStorageEntry.idPrefix(of: entry))
        _ = await storage.append([ChatStorageEntry(bytes: entry, idPrefix: Array(prefix))], to: chat.key,
                                     policy: configuration.retention, logger: chat.logger)
        let turns = storeTestTurns(8)
        try await chat.append(contentsOf: turns)
        // Automatic compaction never runs over it (the session is far over its threshold).
        await automatic.scheduler.idle()
        #expect(try await chat.count() == 9)

        await #expect {
            try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer())
        } throws: { error in
            (error as? ChatMemoryError)?.code == .unsupportedByStorage
        }
        #expect(try await chat.count() == 9)
        let window = try await chat.window(tokenLimit: 100_000)
        #expect(window.messages.first?.id == summary.id && window.messages.first?.role == .system)
        #expect(Array(window.messages.dropFirst()) == turns)
        #expect(try await chat.window(tokenLimit: 100_000, policy: .llamaIndex).messages.first?.id == summary.id)
        #expect(try await chat.window(tokenLimit: 100_000, summary: .excluded).messages == turns)
    }
}
