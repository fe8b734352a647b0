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
            own order. Importing is idempotent by message id: a message whose id the session \
            already holds (anywhere in it) or that appeared earlier in the input is skipped, so \
            running the same import twice appends nothing the second time. This is also the \
            batch mode of `append`.
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var retention: RetentionOptions

    @Option(name: .long, help: ArgumentHelp("Read this file instead of standard input.", valueName: "path"))
    var file: String?

    @Option(name: .long, help: ArgumentHelp("Messages per atomic append.", valueName: "n"))
    var batchSize: Int = 100

    struct JSONForm: Encodable {
        let read: Int
        let appended: Int
        let duplicates: Int
        let length: Int
    }

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() async throws {
        let messages: [ChatMessage]
        do {
            messages = try readMessages()
        } catch {
            throw report(error)
        }
        try await connection.run(configure: retention.apply) { connection in
            let chat = connection.memory.session(try session.id())
            // One read of the ids already stored makes the import idempotent beyond the
            // append's own window of recent ids.
            var seen = Set(try await chat.inspect().messages.map(\.message.id))
            var fresh: [ChatMessage] = []
            for message in messages where seen.insert(message.id).inserted { fresh.append(message) }
            var appended = 0
            var duplicates = messages.count - fresh.count
            var length = 0
            var start = fresh.startIndex
            repeat {
                let batch = Array(fresh[start..<min(start + batchSize, fresh.endIndex)])
                let result = try await chat.append(contentsOf: batch)
                appended += result.appended
                duplicates += result.duplicates
                length = result.length
                start += batch.count
            } while start < fresh.endIndex
            if output.json {
                try printJSON(JSONForm(read: messages.count, appended: appended, duplicates: duplicates, length: length))
            } else {
                printLine("read \(messages.count), appended \(appended), skipped \(duplicates) already present (session has \(length) messages)")
            }
        }
    }

    /// Every message of the input, in order; a line that is not a message fails the whole import.
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
