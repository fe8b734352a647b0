import Testing
@testable import ChatMemory

/// ``TranscriptPlan`` against a model transcript: every size of archive and session up to 6,
/// with and without a summary, every position and page size.
@Suite struct TranscriptPlanTests {
    /// The model: the archive's messages, then the session's oldest first, the summary aside.
    private struct Model {
        let archived: Int, sessionLength: Int, hasSummary: Bool
        var summary: Int { hasSummary && sessionLength > 0 ? 1 : 0 }
        /// Each message as (archived, index in its list oldest first).
        var messages: [(archived: Bool, index: Int)] {
            (0..<archived).map { (true, $0) } + (summary..<sessionLength).map { (false, $0) }
        }
    }

    private static let shapes: [(Int, Int, Bool)] = (0...6).flatMap { a in (0...6).flatMap { l in [(a, l, false), (a, l, true)] } }

    @Test func everyPageHoldsExactlyItsPositionsMessages() {
        for (archived, length, hasSummary) in Self.shapes {
            let model = Model(archived: archived, sessionLength: length, hasSummary: hasSummary)
            let messages = model.messages
            for limit in 1...8 {
                for position in 0...(messages.count + 2) {
                    for request in [TranscriptPlan.Request.from(position), .before(position), .before(nil)] {
                        let plan = TranscriptPlan(archived: archived, sessionLength: length, hasSummary: hasSummary, request: request, limit: limit)
                        #expect(plan.total == messages.count)
                        let read = plan.archived.map { (true, $0) } + plan.live.map { (false, $0) }
                        let expected = Array(messages[plan.start..<plan.end])
                        #expect(read.elementsEqual(expected, by: { $0.0 == $1.archived && $0.1 == $1.index }),
                                "\(archived) archived, \(length) in the session, summary \(hasSummary), \(request), limit \(limit)")
                        switch request {
                        case .from(let from):
                            #expect(plan.start == min(from, messages.count))
                            #expect(plan.end == min(plan.start + limit, messages.count))
                        case .before(let before):
                            #expect(plan.end == min(before ?? messages.count, messages.count))
                            #expect(plan.start == max(0, plan.end - limit))
                        }
                    }
                }
            }
        }
    }

    @Test func pagingEitherWayVisitsEveryMessageOnceAndTheSummaryOnce() {
        for (archived, length, hasSummary) in Self.shapes {
            let model = Model(archived: archived, sessionLength: length, hasSummary: hasSummary)
            for limit in 1...4 {
                var forward: [Int] = [], summaries = 0
                var plan = TranscriptPlan(archived: archived, sessionLength: length, hasSummary: hasSummary, request: .from(0), limit: limit)
                while true {
                    forward += Array(plan.start..<plan.end)
                    summaries += plan.showsSummary ? 1 : 0
                    guard plan.end < plan.total else { break }
                    plan = TranscriptPlan(archived: archived, sessionLength: length, hasSummary: hasSummary, request: .from(plan.end), limit: limit)
                }
                #expect(forward == Array(0..<model.messages.count))
                #expect(summaries == model.summary, "forward: \(archived), \(length), \(hasSummary), limit \(limit)")

                var backward: [Int] = []
                summaries = 0
                plan = TranscriptPlan(archived: archived, sessionLength: length, hasSummary: hasSummary, request: .before(nil), limit: limit)
                while true {
                    backward = Array(plan.start..<plan.end) + backward
                    summaries += plan.showsSummary ? 1 : 0
                    guard plan.start > 0 else { break }
                    plan = TranscriptPlan(archived: archived, sessionLength: length, hasSummary: hasSummary, request: .before(plan.start), limit: limit)
                }
                #expect(backward == Array(0..<model.messages.count))
                #expect(summaries == model.summary, "backward: \(archived), \(length), \(hasSummary), limit \(limit)")
            }
        }
    }

    @Test func theSummaryStandsJustBeforeTheSessionsOldestMessage() {
        // 3 archived, then the summary, then 2 messages: the summary shows with position 3.
        let with = TranscriptPlan(archived: 3, sessionLength: 3, hasSummary: true, request: .from(3), limit: 1)
        #expect(with.showsSummary && with.live == 1..<2)
        let before = TranscriptPlan(archived: 3, sessionLength: 3, hasSummary: true, request: .from(0), limit: 3)
        #expect(!before.showsSummary && before.archived == 0..<3 && before.live.isEmpty)
    }

    @Test func onlyWhatCompactionWritesIsASummary() {
        let summary = ChatSummary(id: "summary:1", text: "t", tokens: 1, coveredMessageIDs: ["a"], replacedSummaryID: nil,
                                  coveredMessageCount: 1, createdAt: .init(timeIntervalSince1970: 0))
        #expect(StoredEntry.isSummaryEntry(SummaryMetadata.encode(summary, counter: "cl100k_base")))
        let lookalikes = [#"summary:x"#, #"a","kind":"summary"#, #"a\"#, #"\","kind":"summary"#, ""]
        for id in lookalikes {
            let message = ChatMessage(id: id.isEmpty ? "m" : id, role: .user, content: #","kind":"summary""#)
            let entry = StoredEntry.encode(message, tokens: 5, counter: "cl100k_base").bytes
            #expect(!StoredEntry.isSummaryEntry(entry), "\(id)")
            #expect(StoredEntry.decode(entry)?.summary == nil)
        }
        for broken in [#"{"id":"a"#, #"{"id":"a\"#, "", "{", #"{"id":"x","kind":"summar"#] {
            #expect(!StoredEntry.isSummaryEntry(Array(broken.utf8)), "\(broken)")
        }
    }
}
