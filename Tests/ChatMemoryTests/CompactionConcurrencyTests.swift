import Foundation
import Testing
@testable import ChatMemory

/// Writers keep appending while compactors compact the same session in a loop: nothing is lost,
/// nothing is kept twice, order holds and tool calls stay with their results. No wall-clock
/// bounds: writers append a fixed number of units, compactors loop until the writers are done.
@Suite struct CompactionConcurrencyTests {
    static let writers = 4
    static let unitsPerWriter = 60

    @Test(arguments: StoreKind.allCases)
    func fourWritersAndTwoCompactorsLoseNothing(kind: StoreKind) async throws {
        try await withStore(kind, {
            $0.tokenCounter = ApproximateTokenCounter()
            $0.idempotencyWindow = 4
        }) { store in
            let chat = store.memory.session("busy")
            let summarizer = JoiningSummarizer()
            let writersDone = SummaryTestBox(false)
            let committed = SummaryTestBox<[ChatSummary]>([])
            let acknowledged = SummaryTestBox<[[String]]>(Array(repeating: [], count: Self.writers))

            try await withThrowingTaskGroup(of: Void.self) { group in
                for compactor in 0..<2 {
                    group.addTask {
                        var finalRounds = 0
                        // Loop until the writers are done, then compact twice more.
                        while finalRounds < 2 {
                            if writersDone.value { finalRounds += 1 }
                            let result = try await chat.compact(targetTokens: 40 * (compactor + 1), summarizer: summarizer)
                            if result.outcome == .compacted, let summary = result.summary { committed.update { $0.append(summary) } }
                            await Task.yield()
                        }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for writer in 0..<Self.writers {
                        writers.addTask {
                            for unit in 0..<Self.unitsPerWriter {
                                let messages = Self.unit(writer: writer, index: unit)
                                try await chat.append(contentsOf: messages)
                                acknowledged.update { $0[writer] += messages.map(\.id) }
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
                writersDone.update { $0 = true }
                try await group.waitForAll()
            }

            let summaries = committed.value
            #expect(!summaries.isEmpty)
            // The stored summary is the last commit, and the chain of replaced summaries passes
            // through every commit exactly once: no two compactions folded the same summary.
            let stored = try #require(try await chat.summary())
            let byID = Dictionary(uniqueKeysWithValues: summaries.map { ($0.id, $0) })
            var chain: [ChatSummary] = []
            var link: String? = stored.id
            while let id = link, let summary = byID[id] {
                chain.insert(summary, at: 0)
                link = summary.replacedSummaryID
            }
            #expect(link == nil && chain.count == summaries.count)
            #expect(stored.text == chain.flatMap(\.coveredMessageIDs).joined(separator: "|"))
            #expect(stored.coveredMessageCount == chain.flatMap(\.coveredMessageIDs).count)

            // Every acknowledged message is covered by exactly one summary or present, never both.
            let present = try await chat.messagesWithoutSummary().map(\.id)
            let covered = chain.flatMap(\.coveredMessageIDs)
            let history = covered + present
            #expect(Set(history).count == history.count, "a message is both covered and present, or covered twice")
            #expect(Set(history) == Set(acknowledged.value.flatMap { $0 }))
            // Each writer's messages keep their order across summaries and the session.
            for writer in 0..<Self.writers {
                let mine = Set(acknowledged.value[writer])
                #expect(history.filter(mine.contains) == acknowledged.value[writer])
            }
            // A tool call and its result are never apart: both in one summary's covers, or both present.
            let segments = chain.map(\.coveredMessageIDs) + [present]
            for segment in segments {
                for id in segment where id.hasSuffix(":result") {
                    #expect(segment.contains(String(id.dropLast(":result".count)) + ":call"), "\(id) apart from its call")
                }
            }
        }
    }

    /// Unit `index` of `writer`: a user message, and every fourth one an assistant tool call with
    /// its result, appended together.
    static func unit(writer: Int, index: Int) -> [ChatMessage] {
        let id = "w\(writer)-\(index)"
        guard index % 4 == 3 else { return [ChatMessage(id: id, role: .user, content: "message \(id) from writer \(writer)")] }
        return [
            ChatMessage(id: id + ":call", role: .assistant, content: nil, toolCalls: [.init(id: id, name: "lookup", arguments: "{}")]),
            ChatMessage(id: id + ":result", role: .tool, content: "result of \(id)", toolCallID: id),
        ]
    }
}
