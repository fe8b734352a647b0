import ChatMemoryRedis
import Logging

/// One conversation, bound to its session id: what a request handler uses.
///
/// Every call takes an optional `logger` (default: the memory's), for the request's own logger
/// and its metadata; the memory logs at `debug` and `trace` only, each line with the session id
/// (`chat.session`), and Redis's lines of the call carry it too.
///
/// ```swift
/// let chat = memory.session("user-42")
/// try await chat.append(.user("What did I ask you yesterday?"))
/// let window = try await chat.window(tokenLimit: 3000, reserving: 200)
/// let reply = try await model.respond(to: window.messages)
/// try await chat.append(.assistant(reply))
/// ```
public struct ChatSession: Sendable {
    public let id: SessionID
    /// The storage key: the configured prefix followed by the id's bytes.
    public let key: [UInt8]
    /// Whose conversation this is (``RedisChatMemory/session(_:owner:)``): every write marks it
    /// active in the owner's list of conversations (``RedisChatMemory/conversations(of:after:limit:logger:)``).
    public let owner: OwnerID?
    /// The owner's key: the configured prefix followed by the owner id's bytes.
    let ownerKey: [UInt8]?
    let storage: any ChatStorage
    let configuration: ChatMemoryConfiguration
    let logger: Logger
    /// Spans around appends and window reads.
    let tracing: SessionTracing

    init(id: SessionID, key: [UInt8], owner: OwnerID? = nil, ownerKey: [UInt8]? = nil, storage: any ChatStorage,
         configuration: ChatMemoryConfiguration, logger: Logger, tracing: SessionTracing) {
        self.id = id
        self.key = key
        self.owner = owner
        self.ownerKey = ownerKey
        self.storage = storage
        self.configuration = configuration
        self.logger = logger
        self.tracing = tracing
    }

    /// Appends one message (see ``append(contentsOf:logger:)``).
    @discardableResult
    public func append(_ message: ChatMessage, logger: Logger? = nil) async throws -> AppendResult {
        try await append(contentsOf: [message], logger: logger)
    }

    /// Appends messages (oldest first) in one atomic step: push, cap, refresh the time to live.
    ///
    /// Retrying an append is safe: a message whose id the session holds among its newest
    /// `messages.count + idempotencyWindow` entries is not written again, nor is any message
    /// that comes before such a message in `messages` (see
    /// ``ChatMemoryConfiguration/idempotencyWindow`` for exactly what that covers). Every
    /// message is checked (a non-empty id, at most ``ChatMemoryConfiguration/maxMessageBytes``)
    /// before anything is counted or written; a call that throws has written nothing, except
    /// when the connection failed after the request was sent (then retry it).
    @discardableResult
    public func append(contentsOf messages: [ChatMessage], logger: Logger? = nil) async throws -> AppendResult {
        let logger = callLogger(logger)
        guard !messages.isEmpty else { return AppendResult(appended: 0, duplicates: 0, length: try await count(logger: logger)) }
        let entries = try encodedEntries(messages)
        let index = try conversationIndex()
        return try await tracing.span("chat.append", session: id, attributes: ["chat.messages": messages.count]) { record in
            let result = try await storage.append(entries, to: key, policy: configuration.retention, logger: logger)
            record("chat.appended", result.appended)
            record("chat.duplicates", result.duplicates)
            logger.trace("appended", metadata: ["chat.appended": "\(result.appended)", "chat.duplicates": "\(result.duplicates)"])
            try await touchConversation(index, logger: logger)
            if result.appended > 0 { scheduleCompactionCheck() }
            return result
        }
    }

    /// The messages as stored entries, each checked first (a non-empty id, parts that can be
    /// sent, at most ``ChatMemoryConfiguration/maxMessageBytes``), before anything is counted or written.
    func encodedEntries(_ messages: [ChatMessage]) throws -> [ChatStorageEntry] {
        for message in messages {
            guard !message.id.isEmpty else { throw ChatMemoryError.invalidMessage("a message needs a non-empty id") }
            if let problem = message.partProblem { throw ChatMemoryError.invalidMessage("message \(message.id): \(problem)") }
            let bytes = message.textBytes
            guard bytes <= configuration.maxMessageBytes else {
                throw ChatMemoryError.messageTooLarge(messageID: message.id, bytes: bytes, limit: configuration.maxMessageBytes)
            }
        }
        let counter = configuration.tokenCounter
        return messages.map { message in
            StoredEntry.encode(message, tokens: counter.count(message), counter: counter.identifier)
        }
    }

    /// The newest `count` messages, oldest first (foreign entries among them are skipped).
    public func recent(_ count: Int, logger: Logger? = nil) async throws -> [ChatMessage] {
        guard count > 0 else {
            if count < 0 { throw ChatMemoryError.invalidConfiguration("recent(_:) needs a count of at least 0 (got \(count))") }
            return []
        }
        let logger = callLogger(logger)
        let entries = try await storage.readEntries(key, start: 0, stop: count - 1, logger: logger)
        try await refreshAfterRead(logger: logger)
        return decoded(entries, logger: logger)
    }

    /// The whole history, oldest first (foreign entries are skipped and logged).
    public func all(logger: Logger? = nil) async throws -> [ChatMessage] {
        let logger = callLogger(logger)
        let entries = try await storage.readEntries(key, start: 0, stop: -1, logger: logger)
        try await refreshAfterRead(logger: logger)
        return decoded(entries, logger: logger)
    }

    /// The whole history with the token count of each message and how many entries were not ours.
    public func inspect(logger: Logger? = nil) async throws -> (messages: [CountedMessage], skippedEntries: Int) {
        let logger = callLogger(logger)
        let entries = try await storage.readEntries(key, start: 0, stop: -1, logger: logger)
        try await refreshAfterRead(logger: logger)
        var messages: [CountedMessage] = []
        var skipped = 0
        for bytes in entries.reversed() {
            guard let decoded = StoredEntry.decode(bytes) else { skipped += 1; continue }
            messages.append(CountedMessage(message: decoded.message, tokens: tokens(of: decoded)))
        }
        return (messages, skipped)
    }

    /// The number of entries in the session (foreign entries included).
    public func count(logger: Logger? = nil) async throws -> Int {
        try await storage.length(key, logger: callLogger(logger))
    }

    /// The session's remaining time to live; `nil` when it never expires or does not exist.
    public func timeToLive(logger: Logger? = nil) async throws -> Duration? {
        try await storage.timeToLive(key, logger: callLogger(logger))
    }

    /// Removes the whole history in one step; true when there was one. A key of another type at
    /// the session's name is someone else's: it throws ``ChatMemoryError/wrongKeyType(key:)`` and
    /// is left alone.
    @discardableResult
    public func clear(logger: Logger? = nil) async throws -> Bool {
        try await storage.delete(key, logger: callLogger(logger))
    }

    /// The call's logger (the memory's when `nil`), with the session id as metadata when it logs
    /// at `debug` or below (so a call that logs nothing pays nothing for it).
    func callLogger(_ logger: Logger?) -> Logger {
        var logger = logger ?? self.logger
        if logger.logLevel <= .debug { logger[metadataKey: "chat.session"] = "\(id)" }
        return logger
    }

    // MARK: - Reading entries

    /// The stored count when this memory's counter made it and it is plausible: at least the
    /// fixed overhead plus one token per 256 bytes of text, at most the overhead plus one token
    /// per byte. A forged or corrupted count is recounted, so it can neither overflow a sum, nor
    /// push every window over its budget, nor smuggle a huge message into a small window.
    ///
    /// Images and files cost exactly what the counter's ``TokenCounter/mediaTokens`` says (no
    /// tokenizer is needed for them), so the range holds for the rest: their tokens are added
    /// to both ends, and inline bytes are no text.
    func tokens(of decoded: StoredEntry.Decoded) -> Int {
        let counter = configuration.tokenCounter
        let message = decoded.message
        let bytes = message.textBytes
        var lower = 3 + bytes / 256, upper = 3 + bytes
        if !message.parts.isEmpty {
            var media = 0, inline = 0
            for part in message.parts where part.text == nil {
                media = ModelSafeWindow.adding(media, counter.mediaTokens.tokens(of: part, counter: counter))
                switch part {
                case .image(.bytes(let data, _), _, _, _), .file(.bytes(let data, _), _): inline += data.count
                default: break
                }
            }
            lower = ModelSafeWindow.adding(3 + (bytes - inline) / 256, media)
            upper = ModelSafeWindow.adding(upper, media)
        }
        if let tokens = decoded.tokens, decoded.counter == counter.identifier, (lower...upper).contains(tokens) {
            return tokens
        }
        return counter.count(message)
    }

    /// Decodes newest-first entries into oldest-first messages, skipping foreign ones.
    private func decoded(_ entries: [RedisBytes], logger: Logger) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        messages.reserveCapacity(entries.count)
        for bytes in entries.reversed() {
            if let decoded = StoredEntry.decode(bytes) { messages.append(decoded.message) }
        }
        reportSkipped(entries.count - messages.count, logger: logger)
        return messages
    }

    /// At `debug`: foreign entries are the data's business (``ChatWindow/skippedEntries`` counts
    /// them), and a server would log them on every read of such a session.
    func reportSkipped(_ skipped: Int, logger: Logger) {
        guard skipped > 0 else { return }
        logger.debug("skipped entries that are not chat messages", metadata: ["chat.skipped": "\(skipped)"])
    }
}
