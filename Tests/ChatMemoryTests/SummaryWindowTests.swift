import Foundation
import Testing
@testable import ChatMemory

@Suite struct SummaryWindowTests {
    static func configure(_ configuration: inout ChatMemoryConfiguration) {
        configuration.tokenCounter = ApproximateTokenCounter()
        configuration.idempotencyWindow = 2
    }

    /// Compacts 20 turns down to the newest 5 and returns the summary and those turns.
    static func compacted(_ chat: ChatSession, text: String = "the user is Ada") async throws -> (ChatSummary, [ChatMessage]) {
        let turns = storeTestTurns(20)
        try await chat.append(contentsOf: turns)
        let result = try await chat.compact(targetTokens: 0, summarizer: FixedSummarizer(text: text))
        return (try #require(result.summary), Array(turns.suffix(3)))
    }

    @Test(arguments: StoreKind.allCases)
    func theSummaryLeadsTheWindowCountedInTheBudget(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("lead")
            let (summary, kept) = try await Self.compacted(chat)
            let keptTokens = try await chat.inspect().messages.suffix(3).map(\.tokens).reduce(0, +)

            let whole = try await chat.window(tokenLimit: 10_000)
            #expect(whole.messages == [summary.message] + kept)
            #expect(whole.tokenCount == summary.tokens + keptTokens && whole.isWholeHistory)

            // The budget holds the summary and the newest two turns only.
            let last2 = try await chat.inspect().messages.suffix(2).map(\.tokens).reduce(0, +)
            let tight = try await chat.window(tokenLimit: summary.tokens + last2 + 5, reserving: 5)
            #expect(tight.messages == [summary.message] + kept.suffix(2))
            #expect(tight.tokenCount == summary.tokens + last2 && tight.reserved == 5 && !tight.isWholeHistory)

            // When the summary does not fit with the newest unit, the newest unit wins.
            let newest = try await chat.inspect().messages.last!.tokens
            let small = try await chat.window(tokenLimit: newest + summary.tokens - 1)
            #expect(small.messages == [kept.last!])

            // As another role, or left out.
            let asUser = try await chat.window(tokenLimit: 10_000, summary: .leading(as: .user))
            #expect(asUser.messages.first?.role == .user && asUser.messages.first?.content == summary.text)
            #expect(try await chat.window(tokenLimit: 10_000, summary: .excluded).messages == kept)
            await #expect(throws: ChatMemoryError.self) { try await chat.window(tokenLimit: 100, summary: .leading(as: .tool)) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anthropicSafeWindowsLeadWithTheSummaryAndOpenWithTheUser(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("anthropic")
            let (summary, kept) = try await Self.compacted(chat)
            #expect(kept.first?.role == .assistant)
            // The kept turns start with an assistant reply: the window leaves it out, the summary leads.
            let window = try await chat.window(tokenLimit: 10_000, policy: .anthropicSafe)
            #expect(window.messages == [summary.message] + kept.dropFirst())
            let request = try AnthropicMessages.request(window.messages)
            #expect(request.system == summary.text && AnthropicMessages.ruleViolations(request).isEmpty)
            let asUser = try await chat.window(tokenLimit: 10_000, policy: .anthropicSafe, summary: .leading(as: .user))
            #expect(AnthropicMessages.ruleViolations(try AnthropicMessages.request(asUser.messages)).isEmpty)
            await #expect(throws: ChatMemoryError.self) {
                try await chat.window(tokenLimit: 10_000, policy: .anthropicSafe, summary: .leading(as: .assistant))
            }
            // Tools still running: no window to send, through the store too.
            try await chat.append(.user("weather?"))
            let call = ChatMessage(id: "calling", role: .assistant, content: nil, toolCalls: [.init(id: "w1", name: "weather", arguments: "{}")])
            try await chat.append(call)
            await #expect(throws: ChatMemoryError.toolCallUnanswered(messageID: "calling", toolCallID: "w1")) {
                try await chat.window(tokenLimit: 10_000, policy: .anthropicSafe)
            }
            try await chat.append(.tool("sunny", callID: "w1"))
            let answered = try await chat.window(tokenLimit: 10_000, policy: .anthropicSafe)
            #expect(answered.messages.suffix(3).map(\.role) == [.user, .assistant, .tool])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func llamaIndexWindowsReadTheSummaryAsStoredUnlessAsked(kind: StoreKind) async throws {
        try await withStore(kind, Self.configure) { store in
            let chat = store.memory.session("llama")
            let (summary, kept) = try await Self.compacted(chat)
            // Unchanged: the summary is the session's oldest message, a system message.
            let llama = try await chat.window(tokenLimit: 10_000, policy: .llamaIndex)
            #expect(llama.messages == [summary.message] + kept)
            let plain = try await chat.window(tokenLimit: 10, policy: .llamaIndex)
            #expect(plain.messages.first?.id != summary.id)
            // Asked for, it leads even when older messages are dropped.
            let led = try await chat.window(tokenLimit: 30, policy: .llamaIndex, summary: .leading)
            #expect(led.messages.first == summary.message && led.messages.count >= 2)
            #expect(led.messages.dropFirst().allSatisfy(kept.contains))
        }
    }

    /// A compaction that commits between the window's first and later reads restarts the read:
    /// never the old summary with messages the new one covers.
    @Test(arguments: [StoreKind.redis, .embedded])
    func aCompactionDuringAWindowReadIsNeverHalfSeen(kind: StoreKind) async throws {
        try await withStore(kind, {
            Self.configure(&$0)
            $0.idempotencyWindow = 0
        }) { store in
            let chat = store.memory.session("race")
            let first = try await chat.compact(targetTokens: 0, summarizer: JoiningSummarizer())
            #expect(first.outcome == .nothingToCompact)
            try await chat.append(contentsOf: storeTestTurns(40))
            _ = try await chat.compact(targetTokens: 300, summarizer: JoiningSummarizer())
            let injecting = StoreTestInjectingStorage(base: chat.storage) { storage in
                let other = ChatSession(id: chat.id, key: chat.key, storage: storage, configuration: chat.configuration, logger: chat.logger, tracing: chat.tracing)
                let outcome = try await other.compact(targetTokens: 0, summarizer: JoiningSummarizer()).outcome
                #expect(outcome == .compacted)
            }
            let watched = ChatSession(id: chat.id, key: chat.key, storage: injecting, configuration: chat.configuration, logger: chat.logger, tracing: chat.tracing)
            let window = try await watched.window(tokenLimit: 100_000)
            let now = try await chat.all()
            #expect(window.messages == now, "\(window.messages.map(\.id)) vs \(now.map(\.id))")
        }
    }
}

struct FixedSummarizer: ChatSummarizer {
    let text: String
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String { text }
}
