import Logging

/// One conversation, bound to its session id: what a request handler uses.
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
    let storage: any ChatStorage
    let configuration: ChatMemoryConfiguration
    let logger: Logger

    /// Appends one message (see ``append(contentsOf:)``).
    @discardableResult
    public func append(_ message: ChatMessage) async throws -> AppendResult {
        try await append(contentsOf: [message])
    }

    /// Appends messages (oldest first) in one atomic step: push, cap, refresh the time to live.
    /// A message whose id the session already holds among its newest messages is skipped, so
    /// retrying an append after a timeout never duplicates a turn.
    @discardableResult
    public func append(contentsOf messages: [ChatMessage]) async throws -> AppendResult {
        guard !messages.isEmpty else { return AppendResult(appended: 0, duplicates: 0, length: try await count()) }
        let counter = configuration.tokenCounter
        let entries = try messages.map { message in
            guard !message.id.isEmpty else { throw ChatMemoryError.invalidMessage("a message needs a non-empty id") }
            return StoredEntry.encode(message, tokens: counter.count(message), counter: counter.identifier)
        }
        return try await storage.append(entries, to: key, policy: configuration.retention)
    }

    /// The newest messages that fit `tokenLimit - reserving`, oldest first.
    ///
    /// Reads the session newest first in growing pages and stops once the budget is spent, so
    /// the cost follows the window, not the history. Stored token counts are used when they were
    /// made by this memory's counter; other messages are recounted.
    public func window(tokenLimit: Int, reserving: Int = 0, policy: WindowPolicy = .modelSafe) async throws -> ChatWindow {
        var builder = try WindowBuilder(policy: policy, tokenLimit: tokenLimit, reserving: reserving, counter: configuration.tokenCounter)
        var start = 0
        var pageSize = 16
        var seen = Set<String>()
        var skipped = 0
        var exhausted = false
        reading: while true {
            let page = try await storage.range(key, start: start, stop: start + pageSize - 1)
            // Decode one entry at a time: the builder often has enough before the page ends.
            for bytes in page {
                guard let decoded = StoredEntry.decode(bytes) else { skipped += 1; continue }
                // A concurrent append shifts the list towards the tail: skip what we already read.
                guard seen.insert(decoded.message.id).inserted else { continue }
                if !builder.feed(CollectionOfOne(CountedMessage(message: decoded.message, tokens: tokens(of: decoded)))) {
                    break reading
                }
            }
            if page.count < pageSize { exhausted = true; break }
            start += pageSize
            pageSize = min(pageSize * 4, 1024)
        }
        reportSkipped(skipped)
        var window = try builder.finish(historyExhausted: exhausted)
        window.skippedEntries = skipped
        return window
    }

    /// The newest `count` messages, oldest first (foreign entries among them are skipped).
    public func recent(_ count: Int) async throws -> [ChatMessage] {
        guard count > 0 else {
            if count < 0 { throw ChatMemoryError.invalidConfiguration("recent(_:) needs a count of at least 0 (got \(count))") }
            return []
        }
        return decoded(try await storage.range(key, start: 0, stop: count - 1))
    }

    /// The whole history, oldest first (foreign entries are skipped and logged).
    public func all() async throws -> [ChatMessage] {
        decoded(try await storage.range(key, start: 0, stop: -1))
    }

    /// The whole history with the token count of each message and how many entries were not ours.
    public func inspect() async throws -> (messages: [CountedMessage], skippedEntries: Int) {
        var messages: [CountedMessage] = []
        var skipped = 0
        for bytes in try await storage.range(key, start: 0, stop: -1).reversed() {
            guard let decoded = StoredEntry.decode(bytes) else { skipped += 1; continue }
            messages.append(CountedMessage(message: decoded.message, tokens: tokens(of: decoded)))
        }
        return (messages, skipped)
    }

    /// The number of entries in the session (foreign entries included).
    public func count() async throws -> Int {
        try await storage.length(key)
    }

    /// The session's remaining time to live; `nil` when it never expires or does not exist.
    public func timeToLive() async throws -> Duration? {
        try await storage.timeToLive(key)
    }

    /// Removes the whole history in one step; true when there was one. A key of another type at
    /// the session's name is someone else's: it throws ``ChatMemoryError/wrongKeyType(key:)`` and
    /// is left alone.
    @discardableResult
    public func clear() async throws -> Bool {
        try await storage.delete(key)
    }

    // MARK: - Reading entries

    private func tokens(of decoded: StoredEntry.Decoded) -> Int {
        if let tokens = decoded.tokens, decoded.counter == configuration.tokenCounter.identifier { return tokens }
        return configuration.tokenCounter.count(decoded.message)
    }

    /// Decodes newest-first entries into oldest-first messages, skipping foreign ones.
    private func decoded(_ entries: [[UInt8]]) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        messages.reserveCapacity(entries.count)
        for bytes in entries.reversed() {
            if let decoded = StoredEntry.decode(bytes) { messages.append(decoded.message) }
        }
        reportSkipped(entries.count - messages.count)
        return messages
    }

    private func reportSkipped(_ skipped: Int) {
        guard skipped > 0 else { return }
        logger.warning("skipped entries that are not chat messages", metadata: ["session": "\(id)", "skipped": "\(skipped)"])
    }
}
