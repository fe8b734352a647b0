/// Builds a token-limited window incrementally from a history read newest first.
///
/// The store reads the newest messages in growing pages and feeds them until `feed` returns
/// false, so the cost follows the window's size, not the history's:
///
/// ```swift
/// var builder = try WindowBuilder(policy: .modelSafe, tokenLimit: 3000, reserving: 200,
///                                 counter: ApproximateTokenCounter())
/// var offset = 0, pageSize = 16, exhausted = false
/// repeat {
///     let page: [CountedMessage] = try await readNewestFirst(skip: offset, count: pageSize)
///     offset += page.count
///     exhausted = page.count < pageSize
///     pageSize *= 2
///     guard builder.feed(page) else { break }
/// } while !exhausted
/// let window = try builder.finish(historyExhausted: exhausted)
/// ```
///
/// The result depends only on the messages, not on how they were split into pages: messages fed
/// after `feed` returned false are ignored.
public struct WindowBuilder: Sendable {
    public let policy: WindowPolicy
    public let tokenLimit: Int
    public let reserving: Int
    public let counter: any TokenCounter

    /// The state of the builder's policy: exactly one is set. Optionals (not an enum with
    /// payloads) let `feed` mutate the state in place, without copying its arrays.
    private var modelSafe: ModelSafeWindow?
    private var llamaIndex: LlamaIndexWindow?

    /// Throws ``ChatMemoryError/invalidTokenBudget(tokenLimit:reserving:)`` if `tokenLimit < 1`,
    /// `reserving < 0` or `reserving > tokenLimit`.
    public init(policy: WindowPolicy = .modelSafe, tokenLimit: Int, reserving: Int = 0, counter: any TokenCounter) throws {
        try Self.checkBudget(tokenLimit: tokenLimit, reserving: reserving)
        self.policy = policy
        self.tokenLimit = tokenLimit
        self.reserving = reserving
        self.counter = counter
        switch policy {
        case .modelSafe: modelSafe = ModelSafeWindow(budget: tokenLimit - reserving)
        case .anthropicSafe: modelSafe = ModelSafeWindow(budget: tokenLimit - reserving, rules: .anthropic)
        case .llamaIndex: llamaIndex = LlamaIndexWindow(tokenLimit: tokenLimit, reserving: reserving, counter: counter)
        }
    }

    /// Throws ``ChatMemoryError/invalidTokenBudget(tokenLimit:reserving:)`` unless
    /// `1 <= tokenLimit` and `0 <= reserving <= tokenLimit` (so `tokenLimit - reserving` cannot overflow).
    static func checkBudget(tokenLimit: Int, reserving: Int) throws(ChatMemoryError) {
        guard tokenLimit >= 1, reserving >= 0, reserving <= tokenLimit else {
            throw .invalidTokenBudget(tokenLimit: tokenLimit, reserving: reserving)
        }
    }

    /// Feeds the next older messages, newest first. Returns false once no older message can
    /// change the window; the store should then stop reading and call ``finish(historyExhausted:)``.
    @discardableResult
    public mutating func feed(_ newestFirst: some Collection<CountedMessage>) -> Bool {
        if let more = modelSafe?.feed(newestFirst) { return more }
        return llamaIndex?.feed(newestFirst) ?? false
    }

    /// Whether the builder still wants older messages (false once `feed` returned false).
    public var wantsMore: Bool {
        !(modelSafe?.decided ?? llamaIndex?.decided ?? true)
    }

    /// The window, once the store stopped feeding. `historyExhausted`: the store fed the
    /// oldest message of the session (ignored once `feed` returned false).
    public func finish(historyExhausted: Bool) throws -> ChatWindow {
        let (messages, tokens, whole) = try modelSafe?.finish(historyExhausted: historyExhausted)
            ?? llamaIndex?.finish(historyExhausted: historyExhausted) ?? ([], 0, historyExhausted)
        return ChatWindow(messages: messages, tokenCount: tokens, tokenLimit: tokenLimit,
                          reserved: reserving, isWholeHistory: whole)
    }
}
