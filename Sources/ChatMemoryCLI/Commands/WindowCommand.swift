import ArgumentParser
import ChatMemory

/// `chat-memory window <session> --tokens N`: what a model would be sent.
struct WindowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "window",
        abstract: "Print the newest messages that fit a token budget, oldest first.",
        discussion: """
            model-safe (the default) never starts with a tool result nor separates a tool call \
            from its results, counts tool-call payloads, and fails when the newest message alone \
            is over the budget; anthropic-safe (the default with --format anthropic) also starts \
            at a user message and leaves out what Anthropic would refuse; llama-index reproduces \
            LlamaIndex ChatMemoryBuffer.get().
            """)

    @OptionGroup var session: SessionArgument
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("The token limit (1 to 1000000000).", valueName: "n"))
    var tokens: Int

    @Option(name: .long, help: ArgumentHelp("Tokens reserved for the rest of the prompt (0 to --tokens).", valueName: "r"))
    var reserve: Int = 0

    @Option(name: .long, help: ArgumentHelp("How the window is cut (default: model-safe, anthropic-safe with --format anthropic).",
                                            valueName: "policy"))
    var policy: PolicyArgument?

    @Flag(name: [.short, .long], help: "Also print each message's id and metadata.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp(
        "Print the window as a model request's messages, one JSON document: openai-chat (the messages array), "
            + "openai-responses (the input array) or anthropic ({\"system\", \"messages\"}).", valueName: "format"))
    var format: RequestFormat?

    enum RequestFormat: String, ExpressibleByArgument, CaseIterable {
        case openAIChat = "openai-chat", openAIResponses = "openai-responses", anthropic

        func jsonData(_ messages: [ChatMessage]) throws -> [UInt8] {
            switch self {
            case .openAIChat: Array(try OpenAIChatCompletions.jsonData(messages))
            case .openAIResponses: Array(try OpenAIResponses.jsonData(messages))
            case .anthropic: Array(try AnthropicMessages.jsonData(messages))
            }
        }
    }

    struct JSONForm: Encodable {
        let session: SessionJSON
        let policy: String
        let messages: [ChatMessage]
        let tokenCount: Int
        let tokenLimit: Int
        let reserved: Int
        let wholeHistory: Bool
        let skippedEntries: Int

        enum CodingKeys: String, CodingKey {
            case session, policy, messages, reserved
            case tokenCount = "token_count"
            case tokenLimit = "token_limit"
            case wholeHistory = "whole_history"
            case skippedEntries = "skipped_entries"
        }
    }

    func validate() throws {
        if format != nil, output.json { throw ValidationError("give --json or --format, not both") }
        try Limits.check(tokens, in: Limits.tokens, "--tokens")
        try Limits.check(reserve, in: 0...tokens, "--reserve")
    }

    func run() async throws {
        let id = try session.id()
        let policy = policy ?? (format == .anthropic ? .anthropicSafe : .modelSafe)
        try await connection.run { connection in
            let window = try await connection.memory.session(id).window(tokenLimit: tokens, reserving: reserve, policy: policy.policy)
            if let format {
                try Streams.writeOutput(try format.jsonData(window.messages) + [UInt8(ascii: "\n")])
                return
            }
            if output.json {
                try printJSON(JSONForm(
                    session: SessionJSON(id), policy: policy.rawValue, messages: window.messages,
                    tokenCount: window.tokenCount, tokenLimit: window.tokenLimit, reserved: window.reserved,
                    wholeHistory: window.isWholeHistory, skippedEntries: window.skippedEntries))
                return
            }
            var out = StandardOutput()
            let formatter = Readable.dateFormatter()
            for message in window.messages {
                try out.write(Readable.message(message, verbose: verbose, formatter: formatter) + "\n")
            }
            let count = window.messages.count
            var summary = "(\(count) \(count == 1 ? "message" : "messages"), \(window.tokenCount) tokens"
            summary += window.reserved > 0 ? " + \(window.reserved) reserved" : ""
            summary += " of \(window.tokenLimit), \(policy.rawValue)"
            summary += window.isWholeHistory ? ", whole history" : ", older messages left out"
            if window.skippedEntries > 0 { summary += ", \(window.skippedEntries) foreign entries skipped" }
            try out.write(summary + ")\n")
            try out.flush()
        }
    }
}
