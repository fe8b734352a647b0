import ArgumentParser
import ChatMemory

/// `chat-memory sessions`: every session under the prefix (listed with SCAN, never KEYS).
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the sessions (one id per line, sorted; listed with SCAN).",
        discussion: "Readable output escapes control characters in ids (\\n, \\t, ...) so each id stays on one line; --json gives the exact text.")

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await connection.run { connection in
            let sessions = try await connection.memory.sessions().sorted()
            if output.json {
                try printJSON(sessions.map(SessionJSON.init))
            } else {
                var out = StandardOutput()
                for session in sessions { out.write(printable(session.description) + "\n") }
                out.flush()
            }
        }
    }
}
