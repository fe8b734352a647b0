import ArgumentParser
import ChatMemory
import Foundation

/// `chat-memory import <session>`: appends JSON Lines, in order, in atomic batches.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Append JSON Lines messages (as `export` writes them) to a session, in order.",
        discussion: """
            Reads standard input, or --file. Every line is checked before anything is written; \
            blank lines are ignored. Messages are appended in file order, in atomic batches of \
            --batch-size, so several importers writing to one session at once each keep their \
            own order.

            Importing is idempotent, also with --max-messages. The input is taken as ordered, \
            oldest first: the newest input message whose id the session already holds, and every \
            message before it, count as already stored and are skipped (even when --max-messages \
            has trimmed them from the session since); so are a message whose id the session holds \
            and one whose id appeared earlier in the input. Running the same import again \
            therefore leaves the session exactly as it was, and an interrupted import run again \
            appends only what is missing. This is also the batch mode of `append`.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var owner: OwnerOption
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var retention: RetentionOptions

    @Option(name: .long, help: ArgumentHelp("Read this file instead of standard input.", valueName: "path"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("Messages per atomic append (1 to 10000).", valueName: "n"))
    var batchSize: Int = 100

    struct JSONForm: Encodable {
        let read: Int
        let appended: Int
        let duplicates: Int
        let length: Int
    }

    func validate() throws {
        try Limits.check(batchSize, in: Limits.batchSize, "--batch-size")
    }

    func run() async throws {
        let messages = try readMessages()
        let id = try session.id()
        let owner = try owner.id()
        try await connection.run(configure: retention.apply) { connection in
            let chat = owner.map { connection.memory.session(id, owner: $0) } ?? connection.memory.session(id)
            // One read of the ids already stored makes the import idempotent beyond the
            // append's own window of recent ids.
            let held = Set(try await chat.inspect().messages.map(\.message.id))
            let fresh = Self.toAppend(messages, held: held)
            var appended = 0
            var duplicates = messages.count - fresh.count
            var length = try await fresh.isEmpty ? chat.count() : 0
            var start = fresh.startIndex
            while start < fresh.endIndex {
                let end = start + min(batchSize, fresh.endIndex - start)
                let result = try await chat.append(contentsOf: Array(fresh[start..<end]))
                appended += result.appended
                duplicates += result.duplicates
                length = result.length
                start = end
            }
            if output.json {
                try printJSON(JSONForm(read: messages.count, appended: appended, duplicates: duplicates, length: length))
            } else {
                try printLine("read \(messages.count), appended \(appended), skipped \(duplicates) already stored (session has \(length) messages)")
            }
        }
    }

    /// The messages an import appends, in order: those after the newest input message whose id
    /// the session holds (it and everything before it count as stored, even if trimmed since),
    /// without ids repeated in the input.
    static func toAppend(_ messages: [ChatMessage], held: Set<String>) -> [ChatMessage] {
        let start = messages.lastIndex { held.contains($0.id) }.map { $0 + 1 } ?? messages.startIndex
        var seen = Set<String>()
        return messages[start...].filter { seen.insert($0.id).inserted }
    }

    private func readMessages() throws(CLIError) -> [ChatMessage] {
        let data: Data
        do {
            if let file {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } else {
                data = FileHandle.standardInput.readDataToEndOfFile()
            }
        } catch {
            throw .runtime("cannot read \(file ?? "standard input"): \(error.localizedDescription)")
        }
        var messages: [ChatMessage] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) else { continue }
            do {
                let message = try ChatMessage(jsonData: Data(line))
                guard !message.id.isEmpty else { throw CLIError.data("line \(lineNumber): a message needs a non-empty id") }
                messages.append(message)
            } catch let error as CLIError {
                throw error
            } catch {
                throw .data("line \(lineNumber) is not a chat message: \(Self.describe(error))")
            }
        }
        return messages
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: "missing \"\(key.stringValue)\""
        case .dataCorrupted(let context)?: context.codingPath.isEmpty ? "not valid JSON" : context.debugDescription
        case .typeMismatch(_, let context)?: "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case .valueNotFound(_, let context)?: "null at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: String(describing: error)
        }
    }
}
