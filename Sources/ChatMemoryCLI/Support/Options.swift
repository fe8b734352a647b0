import ArgumentParser
import ChatMemory

/// Where the server is, how to log in, and how sessions are keyed: shared by every command.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The Redis server URL (default: $REDIS_URL, else redis://127.0.0.1:6379). A password written "
            + "here is visible to every user of the machine (ps): give it with $REDIS_PASSWORD (and "
            + "$REDIS_USERNAME) or --password-file instead.",
        valueName: "url"))
    var url: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read the Redis password from this file (line breaks at its end are ignored), as "
            + "$REDIS_PASSWORD_FILE does, in place of $REDIS_PASSWORD and $REDIS_PASSWORD_FILE. A "
            + "password from either wins over the URL's; the user is $REDIS_USERNAME, else the URL's.",
        valueName: "path"))
    var passwordFile: String?

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

/// The ranges the CLI accepts for numbers. Anything outside is a usage error (exit 64), never
/// an overflow further down.
enum Limits {
    /// `--tokens`: far above any model's context, far below any overflow.
    static let tokens = 1...1_000_000_000
    /// `--max-messages`: the most a Redis list holds (2^32 - 1).
    static let maxMessages = 1...4_294_967_295
    /// `--ttl`: up to 100 years of 365 days.
    static let timeToLiveSeconds = 1...3_153_600_000
    /// `--batch-size`: messages in one atomic append script.
    static let batchSize = 1...10_000
    /// `--created-at`: the range of a JavaScript Date, in Unix milliseconds (±100,000,000 days).
    static let createdAt: ClosedRange<Int64> = -8_640_000_000_000_000...8_640_000_000_000_000

    /// Throws a usage error unless `value` is in `range`.
    static func check<Value: BinaryInteger>(_ value: Value, in range: ClosedRange<Value>, _ option: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(option) must be from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
    }
}

/// Settings applied by commands that write (append, import): the length cap and time to live.
struct RetentionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Keep at most this many newest messages in the session (LTRIM on every write; 1 to 4294967295).",
        valueName: "n"))
    var maxMessages: Int?

    @Option(name: .long, help: ArgumentHelp(
        "Make the session expire this many seconds after the write (1 to 3153600000, 100 years).", valueName: "seconds"))
    var ttl: Int?

    func validate() throws {
        if let maxMessages { try Limits.check(maxMessages, in: Limits.maxMessages, "--max-messages") }
        if let ttl { try Limits.check(ttl, in: Limits.timeToLiveSeconds, "--ttl") }
    }

    func apply(to configuration: inout ChatMemoryConfiguration) {
        configuration.maxMessages = maxMessages
        configuration.timeToLive = ttl.map { .seconds($0) }
    }
}

extension ChatMessage.Role: ExpressibleByArgument {}

/// `--policy model-safe|anthropic-safe|llama-index`.
enum PolicyArgument: String, ExpressibleByArgument, CaseIterable {
    case modelSafe = "model-safe"
    case anthropicSafe = "anthropic-safe"
    case llamaIndex = "llama-index"

    var policy: WindowPolicy {
        switch self {
        case .modelSafe: .modelSafe
        case .anthropicSafe: .anthropicSafe
        case .llamaIndex: .llamaIndex
        }
    }
}
