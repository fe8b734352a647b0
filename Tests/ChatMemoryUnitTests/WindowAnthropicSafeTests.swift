import Foundation
import Testing
@testable import ChatMemory
import TestSupport

private typealias F = WindowFixture

@Suite("Window .anthropicSafe")
struct WindowAnthropicSafeTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var history: [CountedMessage]
        var limit: Int
        var expected: WindowOutcome
        var testDescription: String { name }
    }

    /// A message of `role` with `content` (nil and "" kept as given) and `tokens`.
    static func m(_ id: String, _ role: ChatMessage.Role, _ content: String?, tokens: Int = 5,
                  calls: [String] = [], answers: String? = nil) -> CountedMessage {
        let toolCalls = calls.map { ChatMessage.ToolCall(id: $0, name: "fn", arguments: "{}") }
        return CountedMessage(message: ChatMessage(id: id, role: role, content: content, toolCalls: toolCalls,
                                                   toolCallID: answers, createdAt: F.date), tokens: tokens)
    }

    static let cases: [Case] = [
        Case(name: "starts at a user message, not at an assistant one",
             history: [F.u("u1", 10), F.a("a1", 10), F.u("u2", 10), F.a("a2", 10)],
             limit: 30, expected: .ids(["u2", "a2"])),
        Case(name: "a system prompt before the user message comes along",
             history: [F.s("s1", 5), F.u("u1", 5), F.a("a1", 5)], limit: 15, expected: .ids(["s1", "u1", "a1"])),
        Case(name: "a system prompt before an assistant message does not open a window",
             history: [F.s("s1", 5), F.a("a1", 5), F.u("u2", 5)], limit: 100, expected: .ids(["u2"])),
        Case(name: "a history of assistant messages only: empty window",
             history: [F.a("a1", 5), F.a("a2", 5)], limit: 100, expected: .ids([])),
        Case(name: "a user message with no text does not open a window",
             history: [m("u1", .user, ""), m("a1", .assistant, "hi"), m("u2", .user, "q")], limit: 100, expected: .ids(["u2"])),
        Case(name: "a user message with no text before one with text is carried along",
             history: [m("u0", .user, "x"), m("a0", .assistant, "y"), m("u1", .user, nil), m("u2", .user, "q")],
             limit: 10, expected: .ids(["u1", "u2"])),
        Case(name: "the newest turn over the budget is an error naming its user message",
             history: [F.u("u1", 5), F.a("a1", 5), F.u("u2", 5), F.a("a2", 5)],
             limit: 7, expected: .error(.messageExceedsBudget(messageID: "u2", tokens: 10, budget: 7))),
        Case(name: "the newest turn's user message lies far back: read until found",
             history: [F.u("u1", 1), F.a("a1", 1), F.a("a2", 1), F.a("a3", 1), F.a("a4", 1)],
             limit: 2, expected: .error(.messageExceedsBudget(messageID: "u1", tokens: 5, budget: 2))),
        Case(name: "a tool turn with a user message sent while the tools ran",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"]), F.u("u2", 5), F.t("t1", 5, answers: "c1"), F.a("a2", 5)],
             limit: 100, expected: .ids(["u1", "a1", "u2", "t1", "a2"])),
        Case(name: "a call never answered: windows start after it",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"]), F.u("u2", 5), F.a("a2", 5)],
             limit: 100, expected: .ids(["u2", "a2"])),
        Case(name: "one of two parallel calls never answered",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1", "c2"]), F.t("t1", 5, answers: "c1"), F.a("a2", 5), F.u("u3", 5)],
             limit: 100, expected: .ids(["u3"])),
        Case(name: "a result that comes after another assistant message: windows start after it",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"]), F.u("u2", 5), F.a("a2", 5), F.t("t1", 5, answers: "c1"),
                       F.u("u3", 5), F.a("a3", 5)],
             limit: 100, expected: .ids(["u3", "a3"])),
        Case(name: "two calls with one id: windows start after the older",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"]), F.t("t1", 5, answers: "c1"), F.u("u2", 5),
                       F.a("a2", 5, calls: ["c1"]), F.t("t2", 5, answers: "c1"), F.a("a3", 5)],
             limit: 100, expected: .ids(["u2", "a2", "t2", "a3"])),
        Case(name: "a result without a call id is never sent",
             history: [F.u("u1", 5), F.msg("tn", .tool, tokens: 5), F.u("u2", 5)], limit: 100, expected: .ids(["u2"])),
        Case(name: "the tools still running: an error naming the call",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"])],
             limit: 100, expected: .error(.toolCallUnanswered(messageID: "a1", toolCallID: "c1"))),
        Case(name: "one of two parallel calls still running",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1", "c2"]), F.t("t1", 5, answers: "c1")],
             limit: 100, expected: .error(.toolCallUnanswered(messageID: "a1", toolCallID: "c2"))),
        Case(name: "still running, whatever the budget",
             history: [F.u("u1", 50), F.a("a1", 50, calls: ["c1"])],
             limit: 10, expected: .error(.toolCallUnanswered(messageID: "a1", toolCallID: "c1"))),
        Case(name: "a user message after a running call opens the window",
             history: [F.u("u1", 5), F.a("a1", 5, calls: ["c1"]), F.u("u2", 5)], limit: 100, expected: .ids(["u2"])),
        // Past the budget, a result whose call is further back is no barrier: the newest turn is
        // over the budget (found in review; each gave an empty window).
        Case(name: "a user writes while the tools run, the newest turn over the budget",
             history: [F.u("u0", 2), F.a("a1", 1, calls: ["x"]), F.u("u1", 1), F.t("t1", 1, answers: "x"), F.a("a2", 50)],
             limit: 10, expected: .error(.messageExceedsBudget(messageID: "u0", tokens: 55, budget: 10))),
        Case(name: "an assistant message between a call and its result, over the budget",
             history: [F.u("u0", 2), F.a("a1", 1, calls: ["x"]), F.a("a2", 1), F.t("t1", 1, answers: "x"), F.a("a3", 50)],
             limit: 10, expected: .error(.messageExceedsBudget(messageID: "u0", tokens: 55, budget: 10))),
        Case(name: "a long agent loop over the budget",
             history: [F.u("u0", 1)] + (0..<25).flatMap { round in
                 [F.a("a\(round)", 1, calls: ["x\(round)"]), F.t("t\(round)", 1, answers: "x\(round)")]
             } + [F.a("final", 1)],
             limit: 5, expected: .error(.messageExceedsBudget(messageID: "u0", tokens: 52, budget: 5))),
        Case(name: "a second result for a call, after another turn, is never sent",
             history: [F.u("u0", 1), F.a("a1", 1, calls: ["x"]), F.t("t1", 1, answers: "x"), F.a("a2", 1),
                       F.u("u3", 1), F.t("t1again", 1, answers: "x"), F.a("a4", 1), F.u("u5", 1)],
             limit: 100, expected: .ids(["u5"])),
        // Blank texts are not sent, so they open nothing.
        Case(name: "an assistant message of blank text parts is not sent",
             history: [m("a0", .assistant, nil), m("u1", .user, "hi")].enumerated().map { index, counted in
                 var counted = counted
                 if index == 0 { counted.message.parts = [.text(""), .text("  \n")] }
                 return counted
             }, limit: 100, expected: .ids(["a0", "u1"])),
        Case(name: "a whitespace user message opens no window",
             history: [m("u0", .user, " \t"), m("a1", .assistant, "x"), m("u2", .user, "q")], limit: 100, expected: .ids(["u2"])),
        Case(name: "empty history", history: [], limit: 10, expected: .ids([])),
    ]

    @Test(arguments: cases)
    func table(_ c: Case) throws {
        for pageSize in [1, 3, nil] as [Int?] {
            let (result, _) = try windowTestRun(c.history, policy: .anthropicSafe, tokenLimit: c.limit, pageSize: pageSize)
            #expect(WindowOutcome(result) == c.expected, "page size \(String(describing: pageSize))")
            if case .success(let window) = result {
                let request = try AnthropicMessages.request(window.messages)
                #expect(AnthropicMessages.ruleViolations(request).isEmpty)
            }
        }
    }

    /// Random histories built to break the rules: calls never answered, answered late, twice,
    /// with one id, results with no call, users writing while tools run, messages with no text,
    /// tools still running at the end.
    static func hostileHistory(_ rng: inout SplitMix64, count: Int) -> [CountedMessage] {
        var out: [CountedMessage] = []
        var open: [String] = []
        var n = 0
        func next() -> String { n += 1; return "m\(n)" }
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        let texts: [String?] = ["hello", "x", "", nil, "tool output", " \n"]
        while out.count < count {
            let tokens = Int(rng.next() % 12)
            let id = next()
            switch rng.next() % 9 {
            case 0, 1: out.append(m(id, .user, pick(texts), tokens: tokens))
            case 2: out.append(m(id, .system, pick(texts), tokens: tokens))
            case 3:
                let calls = (0..<(1 + Int(rng.next() % 3))).map { _ in rng.next() % 8 == 0 ? "dup" : "c\(next())" }
                open += calls
                out.append(m(id, .assistant, pick(texts), tokens: tokens, calls: calls))
            case 4 where !open.isEmpty, 5 where !open.isEmpty:
                let call = rng.next() % 6 == 0 ? open[Int(rng.next() % UInt64(open.count))]
                    : open.remove(at: Int(rng.next() % UInt64(open.count)))
                out.append(m(id, .tool, pick(texts), tokens: tokens, answers: call))
            case 6: out.append(m(id, .tool, "r", tokens: tokens, answers: rng.next() % 2 == 0 ? "orphan\(n)" : nil))
            default: out.append(m(id, .assistant, pick(texts), tokens: tokens))
            }
        }
        return out
    }

    /// What the window must be, from the rules alone: a start is valid when the encoded suffix
    /// breaks no rule; the window is the longest valid suffix within the budget; with none, the
    /// shortest valid suffix (over the budget) is the error, and with no valid suffix at all the
    /// window is empty, unless the session ends in tools still running.
    /// `valid`: the valid starts, when known (``validStarts(_:)``).
    static func reference(_ history: [CountedMessage], budget: Int, valid: [Int]? = nil) throws -> WindowOutcome {
        let messages = history.map(\.message)
        if let pending = try pendingCall(messages) {
            return .error(.toolCallUnanswered(messageID: pending.0, toolCallID: pending.1))
        }
        var sums = [Int](repeating: 0, count: history.count + 1)
        for index in history.indices.reversed() { sums[index] = sums[index + 1] + max(0, history[index].tokens) }
        let valid = try valid ?? validStarts(messages)
        if let start = valid.first(where: { sums[$0] <= budget }) { return .ids(messages[start...].map(\.id)) }
        if let newest = valid.last { return .error(.messageExceedsBudget(messageID: messages[newest].id, tokens: sums[newest], budget: budget)) }
        return .ids([])
    }

    /// The starts whose suffix encodes within every rule.
    static func validStarts(_ messages: [ChatMessage]) throws -> [Int] {
        try messages.indices.filter { start in
            AnthropicMessages.ruleViolations(try AnthropicMessages.request(Array(messages[start...]))).isEmpty
        }
    }

    /// The newest assistant message sent, when a call of it is unanswered and nothing but tool
    /// results (and messages not sent) follow it.
    static func pendingCall(_ messages: [ChatMessage]) throws -> (String, String)? {
        let request = try AnthropicMessages.request(messages)
        guard let last = request.messages.last else { return nil }
        let results: Set<String>
        let calls: [String]
        if last.role == "assistant" {
            (calls, results) = (last.content.compactMap(\.toolUseID), [])
        } else if request.messages.count >= 2, !last.content.contains(where: { if case .text = $0 { true } else { false } }) {
            (calls, results) = (request.messages[request.messages.count - 2].content.compactMap(\.toolUseID),
                                Set(last.content.compactMap(\.answeredID)))
        } else {
            return nil
        }
        guard let missing = calls.last(where: { !results.contains($0) }) else { return nil }
        let holder = try #require(messages.last { $0.role == .assistant && $0.toolCalls.contains { $0.id == missing } })
        return (holder.id, missing)
    }

    static func describe(_ history: [CountedMessage]) -> String {
        history.map { counted in
            let m = counted.message
            var text = "\(m.id):\(m.role.rawValue)/\(counted.tokens)"
            text += m.content.map { $0.isEmpty ? "''" : "'\($0)'" } ?? "nil"
            if !m.toolCalls.isEmpty { text += " calls " + m.toolCalls.map(\.id).joined(separator: ",") }
            if m.role == .tool { text += " answers \(m.toolCallID ?? "nil")" }
            return text
        }.joined(separator: " | ")
    }

    @Test func randomHostileHistoriesGiveTheWindowTheRulesAllow() throws {
        var rng = SplitMix64(seed: 7)
        var outcomes: [String: Int] = [:]
        for round in 0..<1_500 {
            let history = Self.hostileHistory(&rng, count: Int(rng.next() % 22))
            let limit = 1 + Int(rng.next() % 70)
            let expected = try Self.reference(history, budget: limit)
            switch expected {
            case .ids(let ids): outcomes[ids.isEmpty ? "empty" : "window", default: 0] += 1
            case .error(let error): outcomes[error.code.description, default: 0] += 1
            }
            for pageSize in [1, 2, 5, nil] as [Int?] {
                let got = WindowOutcome(try windowTestRun(history, policy: .anthropicSafe, tokenLimit: limit, pageSize: pageSize).window)
                #expect(got == expected, "round \(round), page size \(String(describing: pageSize)): \(Self.describe(history))")
            }
        }
        // The generator reaches every outcome often.
        for outcome in ["window", "empty", "messageExceedsBudget", "toolCallUnanswered"] {
            #expect(outcomes[outcome, default: 0] >= 50, "\(outcome): \(outcomes)")
        }
    }
}
