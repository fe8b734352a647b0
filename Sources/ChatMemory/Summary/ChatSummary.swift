import Foundation

/// The running summary of a session: one entry at its oldest end that stands for the messages
/// compaction folded into it.
///
/// ```swift
/// if let summary = try await chat.summary() {
///     print("\(summary.coveredMessageCount) earlier messages: \(summary.text)")
/// }
/// ```
public struct ChatSummary: Sendable, Hashable, Identifiable {
    /// The summary entry's own id (`summary:` and a UUID), unique to each compaction.
    public var id: String
    /// The summariser's text.
    public var text: String
    /// Its token count, by the store's counter (what a window counts for it).
    public var tokens: Int
    /// The ids of the messages the compaction that wrote it folded, oldest first.
    public var coveredMessageIDs: [String]
    /// The summary that compaction folded with them (it stood for everything older), if any.
    public var replacedSummaryID: String?
    /// Every message it stands for: ``coveredMessageIDs`` and those of the summaries it replaced.
    public var coveredMessageCount: Int
    /// When it was written.
    public var createdAt: Date

    public init(id: String, text: String, tokens: Int, coveredMessageIDs: [String], replacedSummaryID: String?,
                coveredMessageCount: Int, createdAt: Date) {
        self.id = id
        self.text = text
        self.tokens = tokens
        self.coveredMessageIDs = coveredMessageIDs
        self.replacedSummaryID = replacedSummaryID
        self.coveredMessageCount = coveredMessageCount
        self.createdAt = createdAt
    }

    /// The summary as the system message it is stored as (what a reader that knows no summaries sees).
    public var message: ChatMessage {
        ChatMessage(id: id, role: .system, content: text, createdAt: createdAt)
    }

    /// The summary of a decoded entry, when it is one. `tokens` is the count the reader trusts.
    init?(_ decoded: StoredEntry.Decoded, tokens: Int) {
        guard let metadata = decoded.summary else { return nil }
        self.init(id: decoded.message.id, text: decoded.message.content ?? "", tokens: tokens,
                  coveredMessageIDs: metadata.covers, replacedSummaryID: metadata.replaces,
                  coveredMessageCount: max(metadata.covered ?? metadata.covers.count, metadata.covers.count),
                  createdAt: decoded.message.createdAt)
    }
}
