import Foundation
import Testing
@testable import ChatMemory
import TestSupport

/// The `.llamaIndex` policy against LlamaIndex itself: Fixtures/llamaindex-windows.jsonl holds what
/// `ChatMemoryBuffer.get(initial_token_count:)` of llama-index-core returned (cl100k_base, the
/// default tokenizer) for each case. Regenerate it with `python3 Scripts/llamaindex-fixtures.py`.
@Suite("Window .llamaIndex against the LlamaIndex fixture")
struct LlamaIndexFixtureTests {
    struct Meta: Decodable {
        var llama_index_core: String
        var cases: Int
    }

    struct Call: Decodable {
        var id: String
        var name: String
        var arguments: String
    }

    struct Message: Decodable {
        var role: String
        var content: String?
        var tool_calls: [Call]?
        var tool_call_id: String?
    }

    struct Case: Decodable {
        var name: String
        var token_limit: Int
        var initial_token_count: Int
        var messages: [Message]
        /// Indices into `messages`, oldest first; nil for an error case.
        var expected: [Int]?
        /// LlamaIndex's count of the returned window (without the initial tokens).
        var tokens: Int?
        /// Whether `expected` is the newest messages.
        var suffix: Bool?
        var error: String?
    }

    struct Fixture {
        var meta: Meta
        var cases: [Case]
    }

    static func load() throws -> Fixture {
        let url = try #require(Bundle.module.url(forResource: "llamaindex-windows", withExtension: "jsonl",
                                                 subdirectory: "Fixtures"))
        let lines = try Data(contentsOf: url).split(separator: UInt8(ascii: "\n"))
        let decoder = JSONDecoder()
        struct Header: Decodable { var meta: Meta }
        let meta = try decoder.decode(Header.self, from: try #require(lines.first)).meta
        let cases = try lines.dropFirst().map { try decoder.decode(Case.self, from: $0) }
        return Fixture(meta: meta, cases: cases)
    }

    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    /// The fixture's messages with ids "0", "1", … (their indices).
    static func history(_ c: Case) throws -> [ChatMessage] {
        try c.messages.enumerated().map { index, m in
            let role = try #require(ChatMessage.Role(rawValue: m.role), "\(c.name): role \(m.role)")
            let calls = (m.tool_calls ?? []).map { ChatMessage.ToolCall(id: $0.id, name: $0.name, arguments: $0.arguments) }
            return ChatMessage(id: String(index), role: role, content: m.content, toolCalls: calls,
                               toolCallID: m.tool_call_id, createdAt: date)
        }
    }

    /// Runs one case; returns a description of each way it differs from LlamaIndex. `pageSizes`
    /// nil: every message in one `feed`.
    static func check(_ c: Case, counter: any TokenCounter, pageSizes: inout SplitMix64?) throws -> [String] {
        let history = try history(c)
        let builder: WindowBuilder
        do {
            builder = try WindowBuilder(policy: .llamaIndex, tokenLimit: c.token_limit,
                                        reserving: c.initial_token_count, counter: counter)
        } catch let error as ChatMemoryError {
            // LlamaIndex raises for token_limit < 1 and initial_token_count > token_limit. It accepts a
            // negative initial_token_count (as extra room); WindowBuilder rejects it, as documented.
            let budgetError = ChatMemoryError.invalidTokenBudget(tokenLimit: c.token_limit, reserving: c.initial_token_count)
            if error == budgetError, c.error != nil || c.initial_token_count < 0 { return [] }
            return ["\(c.name): threw \(error), LlamaIndex gave \(c.error ?? "\(c.expected ?? [])")"]
        }
        if let error = c.error { return ["\(c.name): no error, LlamaIndex raised \(error)"] }
        if c.initial_token_count < 0 { return ["\(c.name): accepted a negative initial_token_count"] }

        let newestFirst = history.reversed().map { CountedMessage(message: $0, tokens: 0) }
        var feeding = builder
        var offset = 0
        repeat {
            var size = newestFirst.count
            if var rng = pageSizes {
                let roll = Int(rng.next() % 16)
                size = roll < 12 ? 1 + roll / 2 : [8, 16, 64, 1_000][roll - 12]
                pageSizes = rng
            }
            let page = newestFirst[offset..<min(newestFirst.count, offset + size)]
            offset += page.count
            if !feeding.feed(page) { break }
        } while offset < newestFirst.count

        var problems: [String] = []
        let expected = (c.expected ?? []).map(String.init)
        // The store passes true only once it fed the oldest message; after `feed` returned false the
        // flag is ignored, so both must give LlamaIndex's window.
        for exhausted in offset == newestFirst.count ? [true] : [false, true] {
            let window = try feeding.finish(historyExhausted: exhausted)
            let ids = window.messages.map(\.id)
            let how = "\(pageSizes == nil ? "one feed" : "pages"), fed \(offset)/\(history.count), exhausted \(exhausted)"
            if ids != expected {
                problems.append("\(c.name) [\(how)]: window \(ids), LlamaIndex \(expected)")
            } else if let tokens = c.tokens, window.tokenCount != tokens {
                problems.append("\(c.name) [\(how)]: tokenCount \(window.tokenCount), LlamaIndex counted \(tokens)")
            } else if window.isWholeHistory != (expected.count == history.count) {
                problems.append("\(c.name) [\(how)]: isWholeHistory \(window.isWholeHistory)")
            }
        }
        return problems
    }

    struct Outcome {
        var cases = 0
        /// One line per case that differs (its first difference).
        var mismatches: [String] = []

        var summary: Comment {
            let first = mismatches.prefix(20).joined(separator: "\n")
            return "\(mismatches.count) of \(cases) cases differ from LlamaIndex; the first 20:\n\(first)"
        }
    }

    /// Checks every case, yielding between cases so a long CPU-bound run never starves the other
    /// tests' tasks (the suites run in parallel on a small cooperative pool).
    static func run(pageSeed: UInt64?) async throws -> Outcome {
        let fixture = try load()
        let counter = try TiktokenCounter(.cl100kBase)
        var pageSizes = pageSeed.map(SplitMix64.init(seed:))
        var outcome = Outcome(cases: fixture.cases.count)
        for c in fixture.cases {
            await Task.yield()
            if let problem = try check(c, counter: counter, pageSizes: &pageSizes).first {
                outcome.mismatches.append(problem)
            }
        }
        return outcome
    }

    @Test func fixtureIsWhole() throws {
        let fixture = try Self.load()
        #expect(fixture.meta.cases == fixture.cases.count)
        #expect(fixture.cases.count >= 1_000)
        #expect(fixture.meta.llama_index_core.hasPrefix("0.14."))
        for c in fixture.cases where c.error == nil {
            let expected = try #require(c.expected, Comment(rawValue: c.name))
            // LlamaIndex always returned the newest messages: the policy can build it from a newest-first read.
            let newest = Array(c.messages.count - expected.count..<c.messages.count)
            #expect(c.suffix == true && expected == newest, "\(c.name)")
        }
    }

    @Test func oneFeed() async throws {
        let outcome = try await Self.run(pageSeed: nil)
        #expect(outcome.mismatches.isEmpty, outcome.summary)
    }

    @Test func randomPageSizes() async throws {
        let outcome = try await Self.run(pageSeed: 0x11A3A_1DE8)
        #expect(outcome.mismatches.isEmpty, outcome.summary)
    }
}
