import ArgumentParser
import ChatMemory

/// `chat-memory transcript <session>`: the whole conversation, archive included, oldest first.
struct TranscriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Print a session's whole conversation, oldest first: what compaction archived, then the session.",
        discussion: """
            Lines as in `show`; archived messages are marked "(archived)" and the running summary \
            shows where it stands, as "summary (of n messages)". Positions count messages from 0, \
            oldest first. Without --from or --before every message is printed, read 1000 at a \
            time; with one of them, one page of --limit messages, followed by "previous: <n>" \
            and "next: <n>" lines to pass back as --before and --from. --json gives {"session", \
            "entries": [{"message", "archived"} or {"summary"}], "start", "end", "total", \
            "skipped_entries"}.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("One page: the messages from this position on.", valueName: "n"))
    var from: Int?

    @Option(name: .long, help: ArgumentHelp("One page: the messages before this position (the newest with --before end).", valueName: "n|end"))
    var before: String?

    @Option(name: .long, help: ArgumentHelp("The most messages of one page, 1 to 1000.", valueName: "n"))
    var limit = 50

    @Flag(name: [.short, .long], help: "Also print each message's id and metadata.")
    var verbose = false

    struct Entry: Encodable {
        var message: ChatMessage?
        var archived: Bool?
        var summary: SummaryJSON?
    }

    struct JSONForm: Encodable {
        let session: SessionJSON
        let entries: [Entry]
        let start: Int, end: Int, total: Int
        let skippedEntries: Int

        enum CodingKeys: String, CodingKey {
            case session, entries, start, end, total
            case skippedEntries = "skipped_entries"
        }
    }

    func validate() throws {
        if from != nil, before != nil { throw ValidationError("give --from or --before, not both") }
        if let from { try Limits.check(from, in: 0...Int.max, "--from") }
        if let before, before != "end" {
            guard let position = Int(before), position >= 0 else {
                throw ValidationError("--before expects a position of at least 0 or \"end\" (got \(printable(before)))")
            }
        }
        try Limits.check(limit, in: 1...ChatSession.maxTranscriptPage, "--limit")
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let chat = connection.memory.session(id)
            var pages: [TranscriptPage] = []
            if let from {
                pages = [try await chat.transcript(from: from, limit: limit)]
            } else if let before {
                pages = [try await chat.transcript(before: Int(before), limit: limit)]
            } else {
                var page = try await chat.transcript(limit: ChatSession.maxTranscriptPage)
                pages = [page]
                while let next = page.next {
                    page = try await chat.transcript(from: next, limit: ChatSession.maxTranscriptPage)
                    pages.append(page)
                }
            }
            try print(pages, of: id, onePage: from != nil || before != nil)
        }
    }

    private func print(_ pages: [TranscriptPage], of id: SessionID, onePage: Bool) throws {
        let entries = pages.flatMap(\.entries)
        let skipped = pages.reduce(0) { $0 + $1.skippedEntries }
        let first = pages.first?.positions.lowerBound ?? 0, last = pages.last?.positions.upperBound ?? 0
        if output.json {
            try printJSON(JSONForm(session: SessionJSON(id), entries: entries.map {
                switch $0 {
                case .message(let message, let archived): Entry(message: message, archived: archived)
                case .summary(let summary): Entry(summary: SummaryJSON(summary))
                }
            }, start: first, end: last, total: pages.last?.total ?? 0, skippedEntries: skipped))
            return
        }
        var out = StandardOutput()
        let formatter = Readable.dateFormatter()
        for entry in entries {
            switch entry {
            case .message(let message, let archived):
                var line = Readable.message(message, verbose: verbose, formatter: formatter)
                if archived, let role = line.range(of: "] \(message.role.rawValue)") {
                    line.replaceSubrange(role, with: "] (archived) \(message.role.rawValue)")
                }
                try out.write(line + "\n")
            case .summary(let summary):
                var line = Readable.message(summary.message, verbose: verbose, formatter: formatter)
                if let role = line.range(of: "] system") { line.replaceSubrange(role, with: "] summary (of \(summary.coveredMessageCount) messages)") }
                try out.write(line + "\n")
            }
        }
        if entries.isEmpty && skipped == 0 && !onePage { printError("(no messages in session \(printable(id.description)))\n") }
        if skipped > 0 { try out.write("(\(skipped) \(skipped == 1 ? "entry" : "entries") skipped: not chat messages)\n") }
        if onePage, let page = pages.first {
            if let previous = page.previous { try out.write("previous: \(previous)\n") }
            if let next = page.next { try out.write("next: \(next)\n") }
        }
        try out.flush()
    }
}

/// `chat-memory truncate <session> --after <message-id>`: removes the messages newer than one.
struct TruncateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "truncate",
        abstract: "Remove every message newer than --after (regenerate from there), in one atomic step.",
        discussion: """
            Reads the newest message, then truncates only if it is still the newest \
            (ChatSession.truncate(after:ifNewestIs:)): when another writer appended meanwhile, \
            nothing changes and the command fails (exit 1); run it again. The message must be \
            among the newest 1000 and not archived by compaction. --json gives {"session", "removed"}.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("The id of the message to keep; every newer one goes.", valueName: "message-id"))
    var after: String

    struct JSONForm: Encodable {
        let session: SessionJSON
        let removed: Int
    }

    func validate() throws {
        if after.isEmpty { throw ValidationError("--after needs a message id") }
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let chat = connection.memory.session(id)
            guard let newest = try await chat.recent(1).last else {
                throw CLIError.data("session \(printable(id.description)) has no messages, or its newest entry is not a chat message")
            }
            switch try await chat.truncate(after: after, ifNewestIs: newest) {
            case .applied(let removed, _):
                if output.json {
                    try printJSON(JSONForm(session: SessionJSON(id), removed: removed))
                } else {
                    try printLine("removed \(removed) \(removed == 1 ? "message" : "messages") after \(printable(after))")
                }
            case .newestChanged:
                throw CLIError.runtime("session \(printable(id.description)) changed while truncating: nothing removed; run again")
            case .anchorNotFound:
                throw CLIError.data("no message \(printable(after)) among the newest \(ChatSession.rewriteSearchDepth) of session "
                    + "\(printable(id.description)) (archived messages cannot be kept this way): nothing removed")
            }
        }
    }
}
