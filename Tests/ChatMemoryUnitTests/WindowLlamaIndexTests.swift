import Testing
@testable import ChatMemory
import TestSupport

private typealias F = WindowFixture

/// Line-by-line ports of `ChatMemoryBuffer.get()` with Python's index semantics, used as oracles.
enum LlamaIndexReference {
    struct ValueError: Error {}

    /// `chat_history[-k:]` in Python: k == 0 gives the whole list, k < 0 drops the first |k|.
    static func suffix(_ h: [ChatMessage], _ k: Int) -> [ChatMessage] {
        if k == 0 { return h }
        if k > 0 { return Array(h.suffix(k)) }
        return Array(h.dropFirst(-k))
    }

    static func count(_ messages: [ChatMessage], _ counter: any TokenCounter) -> Int {
        messages.isEmpty ? 0 : counter.count(messages.map(LlamaIndexWindow.text).joined(separator: " "))
    }

    /// llama-index-core 0.14.16 – 0.14.25.
    static func get(_ h: [ChatMessage], limit: Int, initial: Int, counter: any TokenCounter) throws -> [ChatMessage] {
        if initial > limit { throw ValueError() }
        var mc = h.count
        var tc = count(suffix(h, mc), counter) + initial
        while tc > limit && mc > 1 {
            mc -= 1
            while mc > 1 && [.tool, .assistant].contains(h[h.count - mc].role) { mc -= 1 }
            tc = count(suffix(h, mc), counter) + initial
        }
        if tc > limit || mc <= 0 { return suffix(h, 1).isEmpty ? [] : Array(h.suffix(1)) }
        return suffix(h, mc)
    }

    /// llama-index-core 0.14.0 – 0.14.15 (no `mc > 1` guard in the inner loop, `[]` when nothing
    /// fits). `chat_history[-mc]` with mc <= 0 indexes from the start; past the end it raises.
    static func get0140(_ h: [ChatMessage], limit: Int, initial: Int, counter: any TokenCounter) throws -> [ChatMessage] {
        if initial > limit { throw ValueError() }
        func at(_ i: Int) throws -> ChatMessage {   // chat_history[i]
            let j = i < 0 ? h.count + i : i
            guard h.indices.contains(j) else { throw ValueError() }   // IndexError
            return h[j]
        }
        var mc = h.count
        var tc = count(suffix(h, mc), counter) + initial
        while tc > limit && mc > 1 {
            mc -= 1
            while try [.tool, .assistant].contains(at(-mc).role) { mc -= 1 }
            tc = count(suffix(h, mc), counter) + initial
        }
        if tc > limit || mc <= 0 { return [] }
        return suffix(h, mc)
    }
}

@Suite("Window .llamaIndex")
struct WindowLlamaIndexTests {
    // The fixtures of llama-index-core tests/memory/test_chat_memory_buffer.py (2 tokens each).
    static let user1 = F.text(.user, "first message", id: "U1")
    static let user2 = F.text(.user, "second message", id: "U2")
    static let answer1 = F.text(.assistant, "first answer", id: "A1")
    static let answer2 = F.text(.user, "second answer", id: "A2")   // a USER message in their file
    static let four = [user1, answer1, user2, answer2]

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var history: [ChatMessage]
        var limit: Int
        var reserving = 0
        var expected: [String]
        /// What their test file asserted (written for the older 0.14.0–0.14.15 behaviour), when it differs.
        var before01416: [String]? = nil
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // From test_chat_memory_buffer.py.
        Case(name: "test_put_get", history: [user1], limit: 3000, expected: ["U1"]),
        Case(name: "initial tokens less than limit", history: [user1], limit: 1000, reserving: 5, expected: ["U1"]),
        Case(name: "initial tokens same as limit: newest returned alone", history: [user1], limit: 5, reserving: 5,
             expected: ["U1"], before01416: []),
        Case(name: "space for the user message only: newest (assistant) returned alone", history: [user1, answer1],
             limit: 5, reserving: 3, expected: ["A1"], before01416: []),
        Case(name: "space for second message and answer", history: four, limit: 5, reserving: 1, expected: ["U2", "A2"]),
        Case(name: "space for all but first message", history: four, limit: 10, reserving: 4, expected: ["U2", "A2"]),
        Case(name: "test_max_tokens: two fit", history: [user1, user1], limit: 5, expected: [user1.id, user1.id]),
        Case(name: "test_max_tokens: newest two", history: [user1, user1, user1, F.text(.user, "first message", id: "U4"),
                                                             F.text(.user, "test message2", id: "T")],
             limit: 5, expected: ["U4", "T"]),
        // Documented behaviour beyond their tests.
        Case(name: "a window that fits may start with a tool result",
             history: [F.text(.tool, "result text", id: "T", answers: "c"), F.text(.assistant, "ok", id: "A")],
             limit: 100, expected: ["T", "A"]),
        Case(name: "system prompt dropped like any message",
             history: [F.text(.system, "be nice", id: "S"), F.text(.user, "hi there", id: "U"), F.text(.assistant, "hello", id: "A")],
             limit: 4, expected: ["U", "A"]),
        Case(name: "nothing fits: newest alone, even an orphaned tool result",
             history: [F.text(.user, "a b c", id: "U"), F.text(.tool, "x y z w", id: "T", answers: "c")],
             limit: 3, expected: ["T"], before01416: []),
        Case(name: "tool and assistant messages skipped down to the newest",
             history: [F.text(.user, "a", id: "U1"), F.text(.assistant, "b", id: "A1"), F.text(.tool, "c", id: "T1", answers: "c"),
                       F.text(.assistant, "d e f", id: "A2"), F.text(.user, "g", id: "U2")],
             limit: 2, expected: ["U2"]),
        Case(name: "the oldest message is a candidate whatever its role",
             history: [F.text(.assistant, "a", id: "A1"), F.text(.user, "b", id: "U1")], limit: 2, expected: ["A1", "U1"]),
        Case(name: "no content counts as None", history: [F.text(.user, "hi", id: "U"), F.text(.assistant, nil, id: "A")],
             limit: 2, expected: ["U", "A"]),
        Case(name: "no content counts as None: over", history: [F.text(.user, "hi", id: "U"), F.text(.assistant, nil, id: "A")],
             limit: 1, expected: ["A"], before01416: []),
        Case(name: "empty content counts nothing", history: [F.text(.user, "hi", id: "U"), F.text(.assistant, "", id: "A")],
             limit: 1, expected: ["U", "A"]),
        Case(name: "empty history", history: [], limit: 5, expected: []),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) throws {
        let counter = WindowTestWordCounter()
        let reference = try LlamaIndexReference.get(c.history, limit: c.limit, initial: c.reserving, counter: counter)
        #expect(reference.map(\.id) == c.expected, "the oracle itself")
        let old = try LlamaIndexReference.get0140(c.history, limit: c.limit, initial: c.reserving, counter: counter)
        #expect(old.map(\.id) == (c.before01416 ?? c.expected), "0.14.0–0.14.15 oracle")
        let counted = c.history.map { CountedMessage(message: $0, tokens: 999) }   // stored counts are ignored
        for pageSize in [1, 3, nil] as [Int?] {
            let (result, _) = try windowTestRun(counted, policy: .llamaIndex, tokenLimit: c.limit, reserving: c.reserving,
                                                counter: counter, pageSize: pageSize)
            let window = try result.get()
            #expect(window.messages.map(\.id) == c.expected, "page size \(String(describing: pageSize))")
            #expect(window.tokenCount == LlamaIndexReference.count(window.messages, counter))
            #expect(window.isWholeHistory == (window.messages.count == c.history.count))
        }
    }

    @Test func initialTokensAboveLimitThrows() {
        // test_get_when_initial_tokens_exceed_limit_raises_value_error
        #expect(throws: ChatMemoryError.invalidTokenBudget(tokenLimit: 49, reserving: 50)) {
            _ = try WindowBuilder(policy: .llamaIndex, tokenLimit: 49, reserving: 50, counter: WindowTestWordCounter())
        }
    }

    @Test func joinedCountIncludesTheSeparators() throws {
        // "ab cd" is 5 bytes, while the contents alone are 4.
        let history = [F.text(.user, "ab", id: "U"), F.text(.user, "cd", id: "V")].map { CountedMessage(message: $0, tokens: 1) }
        let (result, _) = try windowTestRun(history, policy: .llamaIndex, tokenLimit: 4, counter: WindowTestByteCounter())
        #expect(try result.get().messages.map(\.id) == ["V"])
        let (all, _) = try windowTestRun(history, policy: .llamaIndex, tokenLimit: 5, counter: WindowTestByteCounter())
        #expect(try all.get().tokenCount == 5)
    }

    @Test func longHistoryStopsAfterLimitPlusSlack() throws {
        let history = (0..<10_000).map { CountedMessage(message: F.text($0 % 2 == 0 ? .user : .assistant, "w w w", id: "m\($0)"), tokens: 0) }
        for pageSize in [1, 3, 100] {
            let (result, fed) = try windowTestRun(history, policy: .llamaIndex, tokenLimit: 30,
                                                  counter: WindowTestWordCounter(), pageSize: pageSize)
            let window = try result.get()
            // 10 messages fit; the window must start on a user message: m9990 … m9999.
            #expect(window.messages.map(\.id) == (9_990..<10_000).map { "m\($0)" })
            #expect(fed <= (30 + LlamaIndexWindow.slack) / 3 + 1 + pageSize, "fed \(fed)")
        }
    }

    @Test func matchesTheOracleOnRandomHistories() throws {
        var rng = SplitMix64(seed: 7)
        let counter = WindowTestWordCounter()
        for _ in 0..<400 {
            let history = WindowRandomHistory.make(&rng, count: Int(rng.next() % 30)).map(\.message)
            let limit = 1 + Int(rng.next() % 40)
            let reserving = Int(rng.next() % UInt64(limit + 1))
            let expected = try LlamaIndexReference.get(history, limit: limit, initial: reserving, counter: counter).map(\.id)
            let counted = history.map { CountedMessage(message: $0, tokens: 0) }
            for pageSize in [1, 2, 5, nil] as [Int?] {
                let (result, _) = try windowTestRun(counted, policy: .llamaIndex, tokenLimit: limit, reserving: reserving,
                                                    counter: counter, pageSize: pageSize)
                #expect(try result.get().messages.map(\.id) == expected)
            }
        }
    }
}
