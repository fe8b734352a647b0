import ArgumentParser
import ChatMemory

/// `chat-memory show <session>`: the history, oldest first.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a session's messages, oldest first.",
        discussion: """
            Each message is one line, "[2026-11-25 22:01:03] user: text" (local time; set TZ to \
            change it), with further content lines indented, tool calls as "→ calls name#id \
            arguments" and tool results as "tool (result of <call id>)". The session's summary (what \
            `compact` folded the oldest messages into) comes first, as "summary (of n messages)". \
            Entries that are not chat messages are skipped and counted at the end.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Only the newest n messages.", valueName: "n"))
    var last: Int?

    @Flag(name: [.short, .long], help: "Also print each message's id, tokens and metadata.")
    var verbose = false

    struct JSONForm: Encodable {
        let session: SessionJSON
        let messages: [ChatMessage]
        let skippedEntries: Int
        /// The session's summary (also the first message), when it has one.
        let summary: SummaryJSON?

        enum CodingKeys: String, CodingKey {
            case session, messages, summary
            case skippedEntries = "skipped_entries"
        }
    }

    func validate() throws {
        if let last, last < 0 { throw ValidationError("--last must be at least 0 (got \(last))") }
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let chat = connection.memory.session(id)
            var (counted, skipped) = try await chat.inspect()
            let summary = counted.first?.message.id.hasPrefix("summary:") == true ? try await chat.summary() : nil
            if let last { counted = Array(counted.suffix(last)) }
            if output.json {
                try printJSON(JSONForm(session: SessionJSON(id), messages: counted.map(\.message), skippedEntries: skipped,
                                       summary: summary.map(SummaryJSON.init)))
                return
            }
            var out = StandardOutput()
            let formatter = Readable.dateFormatter()
            for item in counted {
                var line = Readable.message(item.message, tokens: item.tokens, verbose: verbose, formatter: formatter)
                if let summary, item.message.id == summary.id, let role = line.range(of: "] system") {
                    line.replaceSubrange(role, with: "] summary (of \(summary.coveredMessageCount) messages)")
                }
                try out.write(line + "\n")
            }
            if counted.isEmpty && skipped == 0 { printError("(no messages in session \(printable(id.description)))\n") }
            if skipped > 0 { try out.write("(\(skipped) \(skipped == 1 ? "entry" : "entries") skipped: not chat messages)\n") }
            try out.flush()
        }
    }
}
