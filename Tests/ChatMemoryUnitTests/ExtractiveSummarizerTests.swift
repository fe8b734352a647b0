import Testing
import ChatMemory

@Suite struct ExtractiveSummarizerTests {
    @Test func keepsTheFirstSentenceOfEachMessageWithinItsBound() async throws {
        let summarizer = ExtractiveSummarizer(maxCharacters: 200, maxLineCharacters: 30)
        let call = ChatMessage.ToolCall(id: "c", name: "weather", arguments: "{}")
        let first = try await summarizer.summarize(previous: nil, messages: [
            .user("My name is Ada. I live in Oslo."), .assistant(nil, toolCalls: [call]), .tool("{\"t\":3}", callID: "c"),
            .assistant("Line one\nline two"), .user(String(repeating: "é", count: 100)), .user(""),
        ])
        #expect(first == "user: My name is Ada.\nassistant called weather\ntool: {\"t\":3}\nassistant: Line one line two\nuser: "
            + String(repeating: "é", count: 30) + "…")
        var summary = first
        for round in 0..<50 {
            summary = try await summarizer.summarize(previous: summary, messages: [.user("Round \(round) here. Ignored.")])
            #expect(summary.count <= 200)
        }
        #expect(summary.hasPrefix("user: My name is Ada.\n"))
        #expect(summary.hasSuffix("user: Round 49 here."))
        #expect(summary.contains("\n…\n"))
        #expect(try await ExtractiveSummarizer(maxCharacters: -5).summarize(previous: nil, messages: []) == "")
    }

    /// The head is the oldest lines in order: a long oldest line ends it, so no line is kept twice.
    @Test func anOldestLineTooLongForTheHeadNeverDuplicatesANewerOne() async throws {
        let summarizer = ExtractiveSummarizer(maxCharacters: 64)
        let summary = try await summarizer.summarize(previous: nil, messages: [
            .user(String(repeating: "x", count: 100)), .user("a"), .user("b"), .user("c"),
        ])
        #expect(summary == "…\nuser: a\nuser: b\nuser: c")
    }
}
