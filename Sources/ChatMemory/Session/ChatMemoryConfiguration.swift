/// How a chat memory stores and trims sessions.
///
/// ```swift
/// var configuration = ChatMemoryConfiguration()
/// configuration.maxMessages = 500                 // LTRIM on every append
/// configuration.timeToLive = .seconds(7 * 86_400) // EXPIRE refreshed on every append
/// let memory = RedisChatMemory(client: client, configuration: configuration)
/// ```
public struct ChatMemoryConfiguration: Sendable {
    /// Prepended to the session id to make the Redis key (`chat:<sessionId>`).
    public var keyPrefix: String = "chat:"
    /// Keep at most this many newest messages per session; `nil` keeps all.
    public var maxMessages: Int?
    /// Each append sets the session to expire this long after it; `nil` never expires.
    public var timeToLive: Duration?
    /// An append skips a message whose id is among this many newest messages (retries never
    /// duplicate a turn). 0 turns the check off. The check reads these entries inside the append
    /// script, so it costs server time in proportion: 16 covers a retry with several turns in
    /// between, at about 2.5 times the append rate of 64.
    public var idempotencyWindow: Int = 16
    /// Counts each message's tokens at write time; the count and the counter's identifier are
    /// stored with the message, and readers with another counter recount. The default is the
    /// exact cl100k_base tokenizer (``TiktokenCounter``), or ``ApproximateTokenCounter`` should its
    /// bundled rank file be missing from a broken install.
    public var tokenCounter: any TokenCounter = DefaultTokenCounter()

    public init() {}

    func validated() throws(ChatMemoryError) -> ChatMemoryConfiguration {
        if let maxMessages, maxMessages < 1 { throw .invalidConfiguration("maxMessages must be at least 1 (got \(maxMessages))") }
        if let timeToLive, timeToLive < .milliseconds(1) { throw .invalidConfiguration("timeToLive must be at least 1 ms (got \(timeToLive))") }
        if idempotencyWindow < 0 { throw .invalidConfiguration("idempotencyWindow must not be negative (got \(idempotencyWindow))") }
        return self
    }

    var retention: RetentionPolicy {
        RetentionPolicy(maxLength: maxMessages, timeToLive: timeToLive, idempotencyWindow: idempotencyWindow)
    }
}
