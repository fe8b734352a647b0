import ArgumentParser
import ChatMemory

/// `chat-memory compact <session>`: folds the oldest messages into the session's summary.
struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Fold a session's oldest messages into its summary, with a built-in extractive summariser.",
        discussion: """
            Picks the oldest whole messages (a tool call never apart from its results) whose \
            folding leaves at most --target-tokens, summarises them offline (the first sentence of \
            each, after the previous summary, at most --max-summary-characters) and commits in one \
            atomic step: the summary takes their place at the session's oldest end. The newest 17 \
            messages are never folded (the idempotency window, 16, plus one). Safe while workers \
            append. Exit 1 when another compactor holds the session or the session changed \
            meanwhile (nothing was written: run it again).
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Leave at most this many tokens of messages (0 to 1000000000).", valueName: "n"))
    var targetTokens = 2_000

    @Option(name: .long, help: ArgumentHelp("The longest summary, in characters (64 to 1000000).", valueName: "n"))
    var maxSummaryCharacters = 2_000

    struct JSONForm: Encodable {
        let session: SessionJSON
        let outcome: String
        let removedEntries: Int
        let keptTokens: Int?
        let summary: SummaryJSON?

        enum CodingKeys: String, CodingKey {
            case session, outcome, summary
            case removedEntries = "removed_entries"
            case keptTokens = "kept_tokens"
        }
    }

    func validate() throws {
        guard (0...1_000_000_000).contains(targetTokens) else {
            throw ValidationError("--target-tokens must be from 0 to 1000000000 (got \(targetTokens))")
        }
        guard (64...1_000_000).contains(maxSummaryCharacters) else {
            throw ValidationError("--max-summary-characters must be from 64 to 1000000 (got \(maxSummaryCharacters))")
        }
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let summarizer = ExtractiveSummarizer(maxCharacters: maxSummaryCharacters)
            let result = try await connection.memory.session(id).compact(targetTokens: targetTokens, summarizer: summarizer)
            let name = printable(id.description)
            switch result.outcome {
            case .leaseHeld:
                throw CLIError.runtime("another compactor is compacting session \(name); nothing was written, try again later")
            case .conflict:
                throw CLIError.runtime("session \(name) changed while it was compacted (another compactor, or it was cleared); nothing was written, run it again")
            default: break
            }
            if output.json {
                try printJSON(JSONForm(session: SessionJSON(id), outcome: result.outcome.description, removedEntries: result.removedEntries,
                                       keptTokens: result.keptTokens, summary: result.summary.map(SummaryJSON.init)))
            } else if let summary = result.summary {
                try printLine("compacted \(name): \(result.removedEntries) entries folded into \(printable(summary.id)) "
                    + "(\(summary.tokens) tokens, standing for \(summary.coveredMessageCount) messages); \(result.keptTokens ?? 0) tokens of messages stay")
            } else {
                try printLine("nothing to compact in \(name): it holds at most \(targetTokens) tokens of messages, or only messages that are never folded")
            }
        }
    }
}

/// A summary in `--json` output.
struct SummaryJSON: Encodable {
    let id: String
    let text: String
    let tokens: Int
    let coveredMessageCount: Int
    let covers: [String]
    let replaces: String?

    init(_ summary: ChatSummary) {
        id = summary.id
        text = summary.text
        tokens = summary.tokens
        coveredMessageCount = summary.coveredMessageCount
        covers = summary.coveredMessageIDs
        replaces = summary.replacedSummaryID
    }

    enum CodingKeys: String, CodingKey {
        case id, text, tokens, covers, replaces
        case coveredMessageCount = "covered_message_count"
    }
}
