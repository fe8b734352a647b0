import ChatMemoryRedis
import Logging

extension ChatSession {
    /// The newest messages that fit `tokenLimit - reserving`, oldest first, led by the session's
    /// summary when it has one.
    ///
    /// ```swift
    /// let window = try await chat.window(tokenLimit: 3000, reserving: 200)
    /// // [summary of what was compacted away (system), ..., newest message]
    /// ```
    ///
    /// `summary` says where the summary goes; `nil` means ``SummaryPlacement/leading`` for
    /// ``WindowPolicy/modelSafe`` and ``WindowPolicy/anthropicSafe`` (first, as a system message, its tokens counted in the budget;
    /// left out when it does not fit with the newest unit) and ``SummaryPlacement/asStored`` for
    /// ``WindowPolicy/llamaIndex`` (unchanged: the oldest message, like any other). Under
    /// `.llamaIndex`, a leading summary counts its text plus the joining space.
    ///
    /// The window's messages are a suffix of the session as it stood at one instant, even while
    /// other workers append: the session is read newest first in growing pages, each read from
    /// the head so that it also returns the entries read before; when those differ (an append
    /// landed between two reads), the read starts again with one page as large as all read so
    /// far. So the cost follows the window, not the history (the entries of earlier pages are
    /// sent again, about a third more in all). A leading summary is read with the first page
    /// (one round trip) and checked again at the end: when a compaction committed meanwhile,
    /// the read starts again, so a window never holds a summary together with a message it
    /// covers (a window read as a compaction commits may leave its new summary out). Stored
    /// token counts are used when they were made by this memory's counter and are plausible for
    /// their message; other messages are recounted.
    public func window(tokenLimit: Int, reserving: Int = 0, policy: WindowPolicy = .modelSafe,
                       summary placement: SummaryPlacement? = nil, logger: Logger? = nil) async throws -> ChatWindow {
        let logger = callLogger(logger)
        return try await tracing.span("chat.window", session: id, attributes: ["chat.token_limit": tokenLimit, "chat.reserving": reserving]) { record in
            let window = try await readWindow(tokenLimit: tokenLimit, reserving: reserving, policy: policy, summary: placement, logger: logger)
            try await refreshAfterRead(logger: logger)
            record("chat.window.messages", window.messages.count)
            record("chat.window.tokens", window.tokenCount)
            return window
        }
    }

    private func readWindow(tokenLimit: Int, reserving: Int, policy: WindowPolicy, summary placement: SummaryPlacement?,
                            logger: Logger) async throws -> ChatWindow {
        let counter = configuration.tokenCounter
        let placement = placement ?? (policy == .llamaIndex ? .asStored : .leading)
        if placement.kind == .leading(.tool) {
            throw ChatMemoryError.invalidConfiguration("a summary cannot lead a window as a tool result (it needs its call)")
        }
        if policy == .anthropicSafe, placement.kind == .leading(.assistant) {
            throw ChatMemoryError.invalidConfiguration("an Anthropic-safe window cannot lead with an assistant message (its first message is the user's)")
        }
        // Before `tokenLimit - reserving` below, which a budget out of range would overflow.
        try WindowBuilder.checkBudget(tokenLimit: tokenLimit, reserving: reserving)
        var firstPage = 16
        var leadingAllowed = true
        while true {
            var read: [RedisBytes] = []
            var pageSize = firstPage
            var skipped = 0
            var exhausted = false
            var consistent = true
            var firstEntries: [RedisBytes]?
            var oldest: RedisBytes?
            var leading: CountedMessage?
            if case .leading(let role) = placement.kind, leadingAllowed {
                let both = try await storage.readHeadAndOldest(key, count: pageSize, logger: logger)
                (firstEntries, oldest) = (both.head, both.oldest)
                leading = leadingSummary(both.oldest, role: role, policy: policy, budget: tokenLimit - reserving)
            }
            var builder = try WindowBuilder(policy: policy, tokenLimit: tokenLimit, reserving: reserving + (leading?.tokens ?? 0),
                                            counter: counter)
            reading: while true {
                // Every page is read from the head, so the entries read before are compared too.
                let entries: [RedisBytes]
                if let head = firstEntries {
                    entries = head
                    firstEntries = nil
                } else {
                    entries = try await storage.readEntries(key, start: 0, stop: read.count + pageSize - 1, logger: logger)
                }
                guard entries.count >= read.count, entries[..<read.count].elementsEqual(read) else {
                    consistent = false
                    break reading
                }
                if entries.count - read.count < pageSize { exhausted = true }
                var counted: [CountedMessage] = []
                counted.reserveCapacity(entries.count - read.count)
                for index in read.count..<entries.count {
                    guard let decoded = StoredEntry.decode(entries[index]) else { skipped += 1; continue }
                    // The session's summary, its oldest entry: it leads the window or stays out.
                    if exhausted, index == entries.count - 1, decoded.summary != nil, placement != .asStored { continue }
                    counted.append(CountedMessage(message: decoded.message, tokens: tokens(of: decoded)))
                }
                if !builder.feed(counted) || exhausted {
                    read = entries
                    break reading
                }
                read = entries
                pageSize = min(pageSize * 4, 1024)
            }
            if consistent, leading != nil {
                // No compaction may have committed since the summary was read.
                let now = exhausted ? read.last : try await storage.readEntries(key, start: -1, stop: -1, logger: logger).first
                consistent = now == oldest
            }
            guard consistent else {
                firstPage = read.count + pageSize
                continue
            }
            var window: ChatWindow
            do {
                window = try builder.finish(historyExhausted: exhausted)
            } catch let error as ChatMemoryError where leading != nil && error.code == .messageExceedsBudget {
                // The summary and the newest unit do not fit together: the newest unit wins.
                leadingAllowed = false
                continue
            }
            reportSkipped(skipped, logger: logger)
            if let leading {
                window.messages.insert(leading.message, at: 0)
                window.tokenCount = ModelSafeWindow.adding(window.tokenCount, leading.tokens)
                window.reserved = reserving
            }
            window.skippedEntries = skipped
            return window
        }
    }

    /// The summary as the message that leads a window, with what it costs, when `oldest` is a
    /// summary that fits `budget` on its own.
    private func leadingSummary(_ oldest: RedisBytes?, role: ChatMessage.Role, policy: WindowPolicy, budget: Int) -> CountedMessage? {
        guard let oldest, let decoded = StoredEntry.decode(oldest), let summary = ChatSummary(decoded, tokens: tokens(of: decoded)) else {
            return nil
        }
        var message = summary.message
        message.role = role
        let counter = configuration.tokenCounter
        let cost = switch policy {
        case .modelSafe, .anthropicSafe: role == .system ? summary.tokens : counter.count(message)
        case .llamaIndex: ModelSafeWindow.adding(counter.count(LlamaIndexWindow.text(message)), 1)
        }
        return cost <= budget ? CountedMessage(message: message, tokens: cost) : nil
    }
}
