/// How a chat memory stores and trims sessions.
///
/// ```swift
/// var configuration = ChatMemoryConfiguration()
/// configuration.maxMessages = 500                 // LTRIM on every append
/// configuration.timeToLive = .seconds(7 * 86_400) // EXPIRE refreshed on every append
/// let memory = RedisChatMemory(client: client, configuration: configuration)
/// ```
public struct ChatMemoryConfiguration: Sendable {
    /// Prepended to the session id to make the Redis key (`chat:<sessionId>`). ``RedisChatMemory``
    /// refuses one that could name its own `ids:{…}` or `lease:…` keys (empty, a beginning of
    /// either, or starting with either).
    public var keyPrefix: String = "chat:"
    /// Keep at most this many newest messages per session (1 to ``maxMessagesLimit``); `nil`
    /// keeps all.
    public var maxMessages: Int?
    /// Each append sets the session to expire this long after it (1 ms to
    /// ``timeToLiveLimit``); `nil` never expires.
    public var timeToLive: Duration?
    /// Sliding expiry: when true (``timeToLive`` must be set), every read of a session's messages
    /// (`window`, `recent`, `all`, `inspect`) also sets it, and its id index, to expire
    /// ``timeToLive`` from then, so a user who only reads an old conversation keeps it. One more
    /// round trip per read; a session that does not exist stays so. Needs Redis or
    /// ``EmbeddedChatStorage``.
    public var refreshesTimeToLiveOnRead = false
    /// How many messages other writers may append between an append and its retry while the
    /// retry stays a no-op (0 to ``idempotencyWindowLimit``; 0 turns the check off).
    ///
    /// An append of `n` messages checks their ids against the session's newest
    /// `n + idempotencyWindow` entries, inside the append script. So retrying any
    /// `append(contentsOf:)` stores nothing again of what the first attempt stored, whatever the
    /// batch size, as long as at most `idempotencyWindow` messages were appended by others in
    /// between. Within a batch, a message older than one the session holds also counts as
    /// stored, so a retry is a no-op even after ``maxMessages`` trimmed the batch's older
    /// messages (once the cap has trimmed the whole batch, a retry appends it again). In Redis
    /// the ids sit in a small index beside the session (`ids:{…}` and its key), so the check of
    /// one message costs the same whatever the size of the entries; it grows with the window.
    public var idempotencyWindow: Int = 16
    /// The largest message accepted, in UTF-8 bytes of all its text (id, content, name, tool
    /// calls, tool call id, metadata). A larger one is refused with
    /// ``ChatMemoryError/messageTooLarge(messageID:bytes:limit:)`` before any counting or
    /// writing. The default, 4 MiB, is more text than any model's context holds.
    public var maxMessageBytes: Int = 4 << 20
    /// Counts each message's tokens at write time; the count and the counter's identifier are
    /// stored with the message, and readers with another counter recount. The default is the
    /// exact cl100k_base tokenizer (``TiktokenCounter``), or ``ApproximateTokenCounter`` should its
    /// bundled rank file be missing from a broken install.
    public var tokenCounter: any TokenCounter = DefaultTokenCounter()
    /// Makes every Redis append wait until this many replicas hold it (`WAIT` right after the
    /// append script, on the same connection, in the same round trip); `nil` (the default) does
    /// not wait. See ``Replication``.
    public var replication: Replication?
    /// The lease compactors take and the optional automatic compaction (see ``ChatSession/compact(targetTokens:summarizer:logger:)``).
    public var compaction = CompactionSettings()

    public init() {}

    /// Durability on request. Redis replicates asynchronously, so an append that a primary
    /// acknowledged and that no replica copied yet is lost if that primary dies and a replica
    /// takes over. With this set, an append returns only once `replicas` replicas hold it;
    /// when fewer confirm within `timeout` it throws
    /// ``ChatMemoryError/replicationIncomplete(acknowledged:required:)``: the messages are stored
    /// on the primary but may be lost in a failover, and retrying the append is safe (messages
    /// already stored are not written again, and the retry waits for the replicas again).
    public struct Replication: Sendable, Hashable {
        /// How many replicas must confirm, 1 to 100.
        public var replicas: Int
        /// How long to wait for them, 1 ms to 1 hour and less than the client's `commandTimeout`.
        /// The append's connection carries no other request meanwhile.
        public var timeout: Duration

        public init(replicas: Int = 1, timeout: Duration = .milliseconds(500)) {
            self.replicas = replicas
            self.timeout = timeout
        }
    }

    /// The largest ``maxMessages``.
    public static let maxMessagesLimit = 1 << 32
    /// The longest ``timeToLive``: 100 years.
    public static let timeToLiveLimit: Duration = .seconds(100 * 365 * 86_400)
    /// The largest ``idempotencyWindow``.
    public static let idempotencyWindowLimit = 100_000
    /// The largest ``maxMessageBytes``: 512 MiB, Redis's largest string.
    public static let maxMessageBytesLimit = 512 << 20

    func validated() throws(ChatMemoryError) -> ChatMemoryConfiguration {
        if let maxMessages, !(1...Self.maxMessagesLimit).contains(maxMessages) {
            throw .invalidConfiguration("maxMessages must be from 1 to \(Self.maxMessagesLimit) (got \(maxMessages))")
        }
        if let timeToLive, !(.milliseconds(1)...Self.timeToLiveLimit).contains(timeToLive) {
            throw .invalidConfiguration("timeToLive must be from 1 ms to 100 years (got \(timeToLive))")
        }
        if refreshesTimeToLiveOnRead, timeToLive == nil {
            throw .invalidConfiguration("refreshesTimeToLiveOnRead needs a timeToLive to refresh")
        }
        if !(0...Self.idempotencyWindowLimit).contains(idempotencyWindow) {
            throw .invalidConfiguration("idempotencyWindow must be from 0 to \(Self.idempotencyWindowLimit) (got \(idempotencyWindow))")
        }
        if !(1...Self.maxMessageBytesLimit).contains(maxMessageBytes) {
            throw .invalidConfiguration("maxMessageBytes must be from 1 to \(Self.maxMessageBytesLimit) (got \(maxMessageBytes))")
        }
        if let replication {
            guard (1...100).contains(replication.replicas) else {
                throw .invalidConfiguration("replication.replicas must be from 1 to 100 (got \(replication.replicas))")
            }
            guard (.milliseconds(1)...Duration.seconds(3600)).contains(replication.timeout) else {
                throw .invalidConfiguration("replication.timeout must be from 1 ms to 1 hour (got \(replication.timeout))")
            }
        }
        try compaction.validate()
        return self
    }

    var retention: RetentionPolicy {
        RetentionPolicy(maxLength: maxMessages, timeToLive: timeToLive, idempotencyWindow: idempotencyWindow, replication: replication)
    }
}
