import ArgumentParser
import ChatMemory
import Foundation

/// `chat-memory export <session>`: JSON Lines on standard output.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a session as JSON Lines: one message per line, oldest first.",
        discussion: """
            Each line is a message's documented JSON form (id, role, content, name, tool_calls, \
            tool_call_id, metadata, created_at in Unix ms; sorted keys), so `export | import` is \
            lossless. Entries that are not chat messages are skipped; their number goes to \
            standard error.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var file: String?

    func run() async throws {
        let id = try session.id()
        try await connection.run { connection in
            let (messages, skipped) = try await connection.memory.session(id).inspect()
            var data = Data()
            for item in messages {
                data.append(try item.message.jsonData())
                data.append(UInt8(ascii: "\n"))
            }
            if let file {
                do {
                    try data.write(to: URL(fileURLWithPath: file))
                } catch {
                    throw CLIError.runtime("cannot write \(file): \(error.localizedDescription)")
                }
            } else {
                try Streams.writeOutput(data)
            }
            if skipped > 0 { printError("chat-memory: \(skipped) entries that are not chat messages were skipped\n") }
        }
    }
}
