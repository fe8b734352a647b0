import ArgumentParser
import ChatMemory
import Foundation

/// `chat-memory conversations <owner>`: one page of the owner's conversations, newest activity first.
struct ConversationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conversations",
        abstract: "List an owner's conversations, most recently active first (one page).",
        discussion: """
            Sessions appear here once written with --owner (`append --owner`, or \
            RedisChatMemory.session(_:owner:) in the library). Each line: last activity (UTC), \
            message count, session id, title. When more remain, the last line is \
            "next: <cursor>": pass it to --after for the next page. --json gives \
            {"conversations": [{"session", "title", "created", "lastActive", "messages"}], "next"}, \
            times in Unix milliseconds.
            """)

    @OptionGroup var owner: OwnerArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("The most conversations to list, 1 to 1000.", valueName: "n"))
    var limit = 50

    @Option(name: .long, help: ArgumentHelp("Start after this cursor (the \"next:\" of the previous page).", valueName: "cursor"))
    var after: String?

    struct Row: Encodable {
        let session: SessionJSON
        let title: String?
        let created: Int64
        let lastActive: Int64
        let messages: Int
    }

    struct JSONForm: Encodable {
        let conversations: [Row]
        let next: String?
    }

    func validate() throws {
        try Limits.check(limit, in: 1...RedisChatMemory.maxConversationPage, "--limit")
        if let after, ConversationCursor(after) == nil { throw ValidationError("--after expects a cursor printed as \"next:\" (got \(printable(after)))") }
    }

    func run() async throws {
        let owner = try owner.id()
        let cursor = after.flatMap(ConversationCursor.init)
        try await connection.run { connection in
            let page = try await connection.memory.conversations(of: owner, after: cursor, limit: limit)
            if output.json {
                try printJSON(JSONForm(conversations: page.conversations.map {
                    Row(session: SessionJSON($0.id), title: $0.title, created: Self.milliseconds($0.created),
                        lastActive: Self.milliseconds($0.lastActive), messages: $0.messageCount)
                }, next: page.next?.description))
                return
            }
            var out = StandardOutput()
            for conversation in page.conversations {
                let id = printable(conversation.id.description)
                let shown = conversation.id.isTypableText ? id : "\(id) (--hex \(conversation.id.hex))"
                let title = conversation.title.map { "  " + printable($0) } ?? ""
                let count = conversation.messageCount == 1 ? "1 message" : "\(conversation.messageCount) messages"
                try out.write("\(Self.utc(conversation.lastActive))  \(count)  \(shown)\(title)\n")
            }
            if let next = page.next { try out.write("next: \(next)\n") }
            try out.flush()
        }
    }

    /// Unix milliseconds; a time beyond what Int64 holds (a score written by hand) is clamped.
    private static func milliseconds(_ date: Date) -> Int64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return Int64(exactly: milliseconds) ?? (milliseconds > 0 ? .max : .min)
    }

    private static func utc(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }
}

/// `chat-memory title <session> --owner <owner> <text>`: sets the title the owner's list shows.
struct TitleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "title",
        abstract: "Set (or with --remove, remove) a session's title in its owner's list of conversations.")

    @OptionGroup var session: SessionArgument
    @Argument(help: ArgumentHelp("The title (at most 1024 bytes of UTF-8).", valueName: "text"))
    var text: String?
    @OptionGroup var owner: OwnerOption
    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Remove the title instead.")
    var remove = false

    func validate() throws {
        if owner.owner == nil { throw ValidationError("--owner is required: the title lives in the owner's list of conversations") }
        if remove == (text != nil) { throw ValidationError("give either the title text or --remove") }
    }

    func run() async throws {
        let id = try session.id()
        guard let owner = try owner.id() else { throw CLIError.usage("--owner is required") }
        try await connection.run { connection in
            guard try await connection.memory.session(id, owner: owner).setTitle(remove ? nil : text) else {
                throw CLIError.runtime("\(printable(owner.description)) has no conversation \(printable(id.description)): write to it with append --owner first")
            }
            try printLine(remove ? "removed the title of \(printable(id.description))" : "titled \(printable(id.description))")
        }
    }
}

/// `chat-memory erase-owner <owner>`: deletes every session in the owner's list, and the list.
struct EraseOwnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase-owner",
        abstract: "Delete every session of an owner (its list of conversations) and the list itself.",
        discussion: "Sessions written under the owner while this runs may survive it: stop the owner's traffic first for an erasure that must be whole.")

    @OptionGroup var owner: OwnerArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct JSONForm: Encodable {
        let owner: SessionJSON
        let erased: Int
    }

    func run() async throws {
        let owner = try owner.id()
        try await connection.run { connection in
            let erased = try await connection.memory.erase(owner: owner)
            if output.json { try printJSON(JSONForm(owner: SessionJSON(owner), erased: erased)) } else { try printLine("erased \(erased) sessions of \(printable(owner.description))") }
        }
    }
}
