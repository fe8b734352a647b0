import ArgumentParser
import ChatMemory

/// `chat-memory sessions`: every session under the prefix (listed with SCAN, never KEYS).
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the sessions (one id per line, sorted by bytes; listed with SCAN).",
        discussion: """
            Readable output escapes control characters and backslashes in ids (\\n, \\t, \\\\, ...) so \
            each id stays on one line. An id that cannot be typed back as shown (not UTF-8, \
            escaped, starting with '-', or with surrounding spaces) is followed by the form that \
            addresses it, as in "a\\r\\nb  (--hex 610d0a62)". --json gives each id as text \
            (bytes that are not UTF-8 shown as U+FFFD) and always as the hex that --hex takes: \
            {"id": "...", "hex": "..."}.
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await connection.run { connection in
            // Sorted output needs them all; a set, since SCAN may return a key twice.
            var unique = Set<SessionID>()
            for try await id in connection.memory.sessions() { unique.insert(id) }
            let sessions = unique.sorted()
            if output.json {
                try printJSON(sessions.map(SessionJSON.init))
                return
            }
            var out = StandardOutput()
            for session in sessions {
                let shown = printable(session.description)
                try out.write(session.isTypableText ? shown + "\n" : "\(shown)  (--hex \(session.hex))\n")
            }
            try out.flush()
        }
    }
}
