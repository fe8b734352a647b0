import Testing
@testable import ChatMemory
import TestSupport

private typealias F = WindowFixture

@Suite("Window .modelSafe")
struct WindowModelSafeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var history: [CountedMessage]
        var limit: Int
        var reserving = 0
        var expected: WindowOutcome
        var whole: Bool? = nil
        var testDescription: String { name }
    }

    static let parallel: [CountedMessage] = [
        F.u("u1", 5), F.a("a1", 5, calls: ["c1", "c2"]), F.t("t2", 5, answers: "c2"),
        F.t("t1", 5, answers: "c1"), F.a("a2", 5),
    ]
    static let interleaved: [CountedMessage] = [
        F.a("a1", 5, calls: ["c1"]), F.a("a2", 5, calls: ["c2"]), F.t("t1", 5, answers: "c1"),
        F.t("t2", 5, answers: "c2"), F.a("a3", 5),
    ]

    static let cases: [Case] = [
        // Plain turns.
        Case(name: "plain: all fit", history: [F.u("u1", 10), F.a("a1", 10), F.u("u2", 10), F.a("a2", 10)],
             limit: 40, expected: .ids(["u1", "a1", "u2", "a2"]), whole: true),
        Case(name: "plain: newest two", history: [F.u("u1", 10), F.a("a1", 10), F.u("u2", 10), F.a("a2", 10)],
             limit: 25, expected: .ids(["u2", "a2"]), whole: false),
        Case(name: "plain: may start with a plain assistant", history: [F.u("u1", 10), F.a("a1", 10), F.u("u2", 10), F.a("a2", 10)],
             limit: 30, expected: .ids(["a1", "u2", "a2"]), whole: false),
        // Parallel tool calls, results out of order.
        Case(name: "parallel: all fit", history: parallel, limit: 25, expected: .ids(["u1", "a1", "t2", "t1", "a2"]), whole: true),
        Case(name: "parallel: the call unit fits whole", history: parallel, limit: 24, expected: .ids(["a1", "t2", "t1", "a2"])),
        Case(name: "parallel: the call unit doesn't fit, no result starts the window", history: parallel, limit: 19, expected: .ids(["a2"])),
        Case(name: "interleaved calls form one unit", history: interleaved, limit: 24, expected: .ids(["a3"])),
        Case(name: "interleaved calls: all", history: interleaved, limit: 25, expected: .ids(["a1", "a2", "t1", "t2", "a3"]), whole: true),
        Case(name: "call awaiting its results is a unit of its own",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"])], limit: 5, expected: .ids(["a1"])),
        // System prompt and reserving.
        Case(name: "system + reserving: fits exactly", history: [F.s("s1", 10), F.u("u1", 10), F.a("a1", 10)],
             limit: 40, reserving: 10, expected: .ids(["s1", "u1", "a1"]), whole: true),
        Case(name: "system + reserving: system dropped", history: [F.s("s1", 10), F.u("u1", 10), F.a("a1", 10)],
             limit: 40, reserving: 11, expected: .ids(["u1", "a1"]), whole: false),
        Case(name: "reserving the whole limit leaves no room", history: [F.u("u1", 1)],
             limit: 10, reserving: 10, expected: .error(.messageExceedsBudget(messageID: "u1", tokens: 1, budget: 0))),
        Case(name: "zero-token messages fit a zero budget", history: [F.u("u1", 0)],
             limit: 10, reserving: 10, expected: .ids(["u1"]), whole: true),
        // Orphan tool results (their call is nowhere in the history).
        Case(name: "orphan inside the history: the window starts after it",
             history: [F.u("u1", 5), F.t("tx", 5, answers: "cx"), F.u("u2", 5), F.a("a2", 5)],
             limit: 100, expected: .ids(["u2", "a2"]), whole: false),
        Case(name: "orphan that would start the window is dropped",
             history: [F.t("tx", 5, answers: "cx"), F.u("u1", 5), F.a("a1", 5)],
             limit: 100, expected: .ids(["u1", "a1"]), whole: false),
        Case(name: "orphan: budget cut just after it",
             history: [F.u("u1", 5), F.t("tx", 5, answers: "cx"), F.u("u2", 5), F.a("a2", 5)],
             limit: 15, expected: .ids(["u2", "a2"])),
        Case(name: "tool result without a call id is an orphan",
             history: [F.msg("tn", .tool, tokens: 5), F.u("u1", 5)], limit: 100, expected: .ids(["u1"]), whole: false),
        Case(name: "result whose call is beyond the budget blocks cuts after the call",
             history: [F.a("a1", 5, calls: ["c1"]), F.u("u1", 5), F.u("u2", 5), F.t("t1", 5, answers: "c1"), F.a("a2", 5)],
             limit: 15, expected: .ids(["a2"])),
        Case(name: "same shape with a true orphan: the window starts after it",
             history: [F.u("u0", 5), F.u("u1", 5), F.u("u2", 5), F.t("t1", 5, answers: "c1"), F.a("a2", 5)],
             limit: 15, expected: .ids(["a2"])),
        Case(name: "a newest orphan rules out every window, whatever the budget",
             history: [F.u("u1", 5), F.t("t1", 50, answers: "gone")], limit: 20, expected: .ids([]), whole: false),
        Case(name: "a newest orphan rules out every window: small",
             history: [F.u("u0", 111), F.t("t1", 2, answers: "gone")], limit: 10, expected: .ids([]), whole: false),
        Case(name: "only orphans: empty window, not an error",
             history: [F.t("tx", 5, answers: "cx")], limit: 100, expected: .ids([]), whole: false),
        // A unit that doesn't fit stops the walk (no skipping to older, smaller ones).
        Case(name: "stop at the first unit that doesn't fit",
             history: [F.u("u1", 1), F.a("a1", 1), F.u("u2", 50), F.a("a2", 5)], limit: 20, expected: .ids(["a2"])),
        // Oversized newest unit.
        Case(name: "oversized newest message", history: [F.u("u1", 5), F.a("a1", 100)],
             limit: 50, expected: .error(.messageExceedsBudget(messageID: "a1", tokens: 100, budget: 50))),
        Case(name: "oversized newest tool unit", history: [F.u("u1", 5), F.a("a1", 20, calls: ["c1"]), F.t("t1", 20, answers: "c1")],
             limit: 30, expected: .error(.messageExceedsBudget(messageID: "a1", tokens: 40, budget: 30))),
        Case(name: "oversized with reserving", history: [F.u("u1", 30)], limit: 40, reserving: 20,
             expected: .error(.messageExceedsBudget(messageID: "u1", tokens: 30, budget: 20))),
        Case(name: "empty history", history: [], limit: 10, expected: .ids([]), whole: true),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) throws {
        for pageSize in [1, 3, nil] as [Int?] {
            let (result, _) = try windowTestRun(c.history, policy: .modelSafe, tokenLimit: c.limit,
                                                reserving: c.reserving, pageSize: pageSize)
            #expect(WindowOutcome(result) == c.expected, "page size \(String(describing: pageSize))")
            if let whole = c.whole, case .success(let window) = result {
                #expect(window.isWholeHistory == whole)
                #expect(window.reserved == c.reserving)
                #expect(window.tokenLimit == c.limit)
                let ids = Set(window.messages.map(\.id))
                #expect(window.tokenCount == c.history.filter { ids.contains($0.message.id) }.map(\.tokens).reduce(0, +))
            }
        }
    }

    @Test(arguments: [(0, 0), (-1, 0), (10, -1), (10, 11)])
    func invalidBudgets(_ budget: (Int, Int)) {
        for policy in [WindowPolicy.modelSafe, .llamaIndex] {
            #expect(throws: ChatMemoryError.invalidTokenBudget(tokenLimit: budget.0, reserving: budget.1)) {
                _ = try WindowBuilder(policy: policy, tokenLimit: budget.0, reserving: budget.1,
                                      counter: ApproximateTokenCounter())
            }
        }
    }

    @Test func reservingTheWholeLimitIsValid() throws {
        _ = try WindowBuilder(policy: .modelSafe, tokenLimit: 10, reserving: 10, counter: ApproximateTokenCounter())
    }

    @Test func longHistoryStopsEarly() throws {
        let history = (0..<10_000).map { i in i % 2 == 0 ? F.u("u\(i)", 10) : F.a("a\(i)", 10) }
        for pageSize in [1, 3] {
            let (result, fed) = try windowTestRun(history, policy: .modelSafe, tokenLimit: 100, pageSize: pageSize)
            let window = try result.get()
            #expect(window.messages.map(\.id) == (9_990..<10_000).map { $0 % 2 == 0 ? "u\($0)" : "a\($0)" })
            #expect(window.tokenCount == 100)
            #expect(!window.isWholeHistory)
            #expect(fed <= 11 + pageSize, "fed \(fed) messages")
        }
    }

    @Test func longHistoryWithToolCallsStopsOnceCallsAreFound() throws {
        var history: [CountedMessage] = []
        for i in 0..<2_000 {
            history += [F.u("u\(i)", 2), F.a("a\(i)", 2, calls: ["c\(i)"]), F.t("t\(i)", 2, answers: "c\(i)"), F.a("r\(i)", 2)]
        }
        let (result, fed) = try windowTestRun(history, policy: .modelSafe, tokenLimit: 13, pageSize: 1)
        // r1999 (2) + [a1999 t1999] (4) + u1999 (2) + r1998 (2) = 10; the next unit [a1998 t1998] doesn't fit.
        #expect(try result.get().messages.map(\.id) == ["r1998", "u1999", "a1999", "t1999", "r1999"])
        #expect(fed <= 8)
    }

    /// A result whose call can't be found within the lookahead is assumed to answer an older
    /// call: the window starts after it (never unsafe, only shorter).
    @Test func unresolvedResultBeyondLookaheadIsTreatedAsAnsweringAnOlderCall() throws {
        func history(_ users: Int) -> [CountedMessage] {
            (0..<users).map { F.u("u\($0)", 1) } + [F.t("tx", 1, answers: "cx"), F.a("a", 1)]
        }
        // Read to the oldest message, it is an orphan: not sent either.
        let short = try windowTestRun(history(20), policy: .modelSafe, tokenLimit: 3, pageSize: 1)
        #expect(try short.window.get().messages.map(\.id) == ["a"])
        let long = try windowTestRun(history(200), policy: .modelSafe, tokenLimit: 3, pageSize: 1)
        #expect(try long.window.get().messages.map(\.id) == ["a"])
        #expect(long.fed <= 3 + ModelSafeWindow.orphanLookahead + 1)
    }

    @Test func pageSizesGiveIdenticalResultsOnRandomHistories() throws {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let history = WindowRandomHistory.make(&rng, count: Int(rng.next() % 25))
            let limit = 1 + Int(rng.next() % 60)
            let reserving = Int(rng.next() % UInt64(limit + 1))
            let expected = WindowOutcome(try windowTestRun(history, policy: .modelSafe, tokenLimit: limit, reserving: reserving).window)
            for pageSize in [1, 2, 3, 7] {
                let got = WindowOutcome(try windowTestRun(history, policy: .modelSafe, tokenLimit: limit,
                                                          reserving: reserving, pageSize: pageSize).window)
                #expect(got == expected)
            }
            if case .ids(let ids) = expected {
                let window = history.filter { ids.contains($0.message.id) }
                #expect(window.first?.message.role != .tool)
                // Every result in the window has its call before it in the window.
                for (index, result) in window.enumerated() where result.message.role == .tool {
                    let id = result.message.toolCallID
                    #expect(window[..<index].contains { $0.message.toolCalls.contains { $0.id == id } })
                }
            }
        }
    }
}

enum WindowRandomHistory {
    /// Random plausible histories: turns, tool calls with out-of-order results, some orphans.
    static func make(_ rng: inout SplitMix64, count: Int) -> [CountedMessage] {
        var out: [CountedMessage] = []
        var open: [String] = []
        var n = 0
        func id() -> String { n += 1; return "m\(n)" }
        let words = ["alpha", "beta", "gamma", "delta", "x", "", "tool output", "a b c d"]
        while out.count < count {
            let tokens = Int(rng.next() % 12)
            let text = words[Int(rng.next() % UInt64(words.count))]
            switch rng.next() % 6 {
            case 0: out.append(WindowFixture.msg(id(), .user, text, tokens: tokens))
            case 1: out.append(WindowFixture.msg(id(), .system, text, tokens: tokens))
            case 2:
                let calls = (0..<(1 + Int(rng.next() % 3))).map { _ in "c\(id())" }
                open += calls
                out.append(WindowFixture.msg(id(), .assistant, text, tokens: tokens, calls: calls))
            case 3 where !open.isEmpty:
                let call = open.remove(at: Int(rng.next() % UInt64(open.count)))
                out.append(WindowFixture.msg(id(), .tool, text, tokens: tokens, answers: call))
            case 4: out.append(WindowFixture.msg(id(), .tool, text, tokens: tokens, answers: "orphan\(n)"))
            default: out.append(WindowFixture.msg(id(), .assistant, text, tokens: tokens))
            }
        }
        return out
    }
}

@Suite("Window builder edges")
struct WindowBuilderEdgeTests {
    /// Counts and limits at the ends of `Int` never trap, under either policy.
    @Test(arguments: [WindowPolicy.modelSafe, .llamaIndex])
    func extremeCountsAndLimitsNeverTrap(policy: WindowPolicy) throws {
        let history = [WindowFixture.u("u1", .max), WindowFixture.a("a1", .max), WindowFixture.u("u2", .min), WindowFixture.a("a2", .max)]
        for (limit, reserving) in [(Int.max, 0), (Int.max, Int.max), (Int.max, Int.max - 1), (1, 1), (1, 0)] {
            for pageSize in [nil, 1] as [Int?] {
                _ = try windowTestRun(history, policy: policy, tokenLimit: limit, reserving: reserving, pageSize: pageSize)
            }
        }
        let huge = try windowTestRun(history, policy: .modelSafe, tokenLimit: .max - 1, pageSize: 1).window
        #expect(throws: ChatMemoryError.self) { _ = try huge.get() }
    }
}
