import ArgumentParser
import ChatMemory

/// Where the server is and how sessions are keyed: shared by every command.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The Redis server URL (default: $REDIS_URL, else redis://127.0.0.1:6379).",
        valueName: "url"))
    var url: String?

    @Option(name: .long, help: ArgumentHelp("The key prefix of session lists.", valueName: "prefix"))
    var prefix: String = "chat:"

    @Option(name: .long, help: ArgumentHelp(
        "How tokens are counted: cl100k_base (the library's default), o200k_base, or approx (one per 4 bytes).",
        valueName: "encoding"))
    var encoding: EncodingArgument?
}

/// `--encoding`: the token counter. Counts stored by another counter are recounted on read.
enum EncodingArgument: String, ExpressibleByArgument, CaseIterable {
    case cl100kBase = "cl100k_base"
    case o200kBase = "o200k_base"
    case approx

    func counter() throws -> any TokenCounter {
        switch self {
        case .cl100kBase: try TiktokenCounter(.cl100kBase)
        case .o200kBase: try TiktokenCounter(.o200kBase)
        case .approx: ApproximateTokenCounter()
        }
    }
}

/// `--json`: print one JSON document instead of readable text.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of readable text.")
    var json = false
}

/// Settings applied by commands that write (append, import): the length cap and time to live.
struct RetentionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Keep at most this many newest messages in the session (LTRIM on every write).",
        valueName: "n"))
    var maxMessages: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Make the session expire this many seconds after the write.", valueName: "seconds"))
    var ttl: Int?

    func apply(to configuration: inout ChatMemoryConfiguration) {
        configuration.maxMessages = maxMessages
        configuration.timeToLive = ttl.map { .seconds($0) }
    }
}

/// The `<session>` argument, as text.
struct SessionArgument: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The session id: any UTF-8 text of 1 to 512 bytes, used byte for byte.", valueName: "session"))
    var session: String

    /// The session id; an empty or too long id is a usage error.
    func id() throws(CLIError) -> SessionID {
        try Self.id(session)
    }

    static func id(_ text: String) throws(CLIError) -> SessionID {
        do {
            return try SessionID(text)
        } catch {
            throw CLIError.usage(CLIError.describe(error))
        }
    }
}

extension ChatMessage.Role: ExpressibleByArgument {}

/// `--policy model-safe|llama-index`.
enum PolicyArgument: String, ExpressibleByArgument, CaseIterable {
    case modelSafe = "model-safe"
    case llamaIndex = "llama-index"

    var policy: WindowPolicy {
        switch self {
        case .modelSafe: .modelSafe
        case .llamaIndex: .llamaIndex
        }
    }
}
