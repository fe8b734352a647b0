import ArgumentParser
import ChatMemory

/// `chat-memory count <session>`: the list's length.
struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Print the number of entries in a session (LLEN; 0 when it does not exist).",
        discussion: "The count includes entries that are not chat messages; `stats` tells them apart.")

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    struct JSONForm: Encodable {
        let session: SessionJSON
        let count: Int
    }

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let count = try await connection.memory.session(id).count()
            if output.json { try printJSON(JSONForm(session: SessionJSON(id), count: count)) } else { try printLine("\(count)") }
        }
    }
}
