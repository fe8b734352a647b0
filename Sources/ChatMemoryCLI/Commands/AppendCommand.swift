import ArgumentParser
import ChatMemory
import Foundation

/// `chat-memory append <session> --role R --content C`: one message.
struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one message to a session.",
        discussion: """
            Retrying is safe: a message whose --id is among the session's 17 newest messages \
            (itself and the idempotency window of 16 others appended since) is not written again. \
            To append many messages at once, in order, use `import` (JSON Lines).
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var retention: RetentionOptions
    @OptionGroup var owner: OwnerOption

    @Option(name: .long, help: ArgumentHelp("system, user, assistant or tool.", valueName: "role"))
    var role: ChatMessage.Role

    @Option(name: .long, help: ArgumentHelp("The text (leave it out for an assistant that only calls tools; --content '' stores an empty text).", valueName: "text"))
    var content: String?

    @Option(name: .long, help: ArgumentHelp("The message id (default: a new UUID).", valueName: "id"))
    var id: String?

    @Option(name: .long, help: ArgumentHelp("A participant or tool name.", valueName: "name"))
    var name: String?

    @Option(name: .long, help: ArgumentHelp("On a tool result: the id of the call it answers.", valueName: "id"))
    var toolCallId: String?

    @Option(name: .customLong("tool-call"), parsing: .singleValue, help: ArgumentHelp(
        "On an assistant message: a tool call as id:name:arguments (arguments may contain ':'); repeatable.",
        valueName: "id:name:arguments"))
    var toolCalls: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Metadata as key=value; repeatable.", valueName: "key=value"))
    var metadata: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "The creation time in Unix milliseconds, from -8640000000000000 to 8640000000000000 (default: now).", valueName: "ms"))
    var createdAt: Int64?

    struct JSONForm: Encodable {
        let id: String
        let appended: Int
        let duplicates: Int
        let length: Int
    }

    func validate() throws {
        if let createdAt { try Limits.check(createdAt, in: Limits.createdAt, "--created-at") }
    }

    func run() async throws {
        let message = try makeMessage()
        let id = try session.id()
        let owner = try owner.id()
        try await connection.run(configure: retention.apply) { connection in
            let chat = owner.map { connection.memory.session(id, owner: $0) } ?? connection.memory.session(id)
            let result = try await chat.append(message)
            if output.json {
                try printJSON(JSONForm(id: message.id, appended: result.appended, duplicates: result.duplicates, length: result.length))
            } else if result.appended > 0 {
                try printLine("appended \(printable(message.id)) (session has \(result.length) messages)")
            } else {
                try printLine("\(printable(message.id)) is already in the session: nothing appended (session has \(result.length) messages)")
            }
        }
    }

    private func makeMessage() throws(CLIError) -> ChatMessage {
        var pairs: [String: String] = [:]
        for item in metadata {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw .usage("--metadata expects key=value (got \(printable(item)))")
            }
            pairs[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        var calls: [ChatMessage.ToolCall] = []
        for item in toolCalls {
            let parts = item.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .usage("--tool-call expects id:name:arguments (got \(printable(item)))")
            }
            calls.append(ChatMessage.ToolCall(id: String(parts[0]), name: String(parts[1]), arguments: String(parts[2])))
        }
        if let id, id.isEmpty { throw .usage("--id must not be empty") }
        return ChatMessage(
            id: id ?? UUID().uuidString.lowercased(), role: role, content: content, name: name,
            toolCalls: calls, toolCallID: toolCallId, metadata: pairs,
            createdAt: createdAt.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date())
    }
}
