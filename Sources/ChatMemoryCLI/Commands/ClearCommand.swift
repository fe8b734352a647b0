import ArgumentParser
import ChatMemory

/// `chat-memory clear <session>`: removes the whole session.
struct ClearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Remove a session's whole history (UNLINK, in one atomic script).",
        discussion: "A key at the session's name that is not a list is left alone and reported as an error.")

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct JSONForm: Encodable {
        let session: SessionJSON
        let cleared: Bool
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            // A key of another type at the session's name is reported, not deleted (by the library).
            let cleared = try await connection.memory.session(id).clear()
            if output.json {
                try printJSON(JSONForm(session: SessionJSON(id), cleared: cleared))
            } else {
                try printLine(cleared ? "cleared \(printable(id.description))" : "no session \(printable(id.description)): nothing to clear")
            }
        }
    }
}
