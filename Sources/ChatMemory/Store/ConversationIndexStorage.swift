import Logging

/// What an owner's list of conversations needs from a storage backend, besides ``ChatStorage``:
/// an index per owner of its sessions by last activity, with each one's creation time and title.
///
/// Internal: ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it. Over a backend of your own
/// (a public ``ChatStorage``) an owned session's append and the listing throw
/// ``ChatMemoryError/Code/unsupportedByStorage``.
///
/// `owner` is the owner's key (the configured prefix followed by the owner id's bytes); `session`
/// is a session id's bytes. Every method acts on the owner's index alone, in one atomic step, and
/// never reads or writes a session: on a cluster the index lives in the owner's slot.
protocol ConversationIndexStorage: ChatStorage {
    /// Marks the session active now in the owner's index (its last-active time strictly grows,
    /// its creation time is kept once set); the index expires no sooner than `timeToLive` from
    /// now (`nil`: never), an expiry only ever pushed back.
    func touchConversation(_ session: [UInt8], owner: [UInt8], timeToLive: Duration?, logger: Logger) async throws

    /// Pushes the owner's index's expiry back to `timeToLive` from now, when it exists and would
    /// expire sooner (sliding expiry).
    func refreshConversationIndex(owner: [UInt8], to timeToLive: Duration, logger: Logger) async throws

    /// Sets (or, with `nil`, removes) the session's title in the owner's index, when the index
    /// holds the session; false (nothing written) otherwise.
    func setConversationTitle(_ title: String?, session: [UInt8], owner: [UInt8], logger: Logger) async throws -> Bool

    /// Up to `limit` sessions of the owner, most recently active first, from `cursor` on (`nil`:
    /// from the newest), and the cursor of the next page (`nil`: none left).
    func conversationPage(owner: [UInt8], after cursor: ConversationCursor?, limit: Int, logger: Logger) async throws
        -> (rows: [ConversationRow], next: ConversationCursor?)

    /// Removes the session from the owner's index, only if it was last active at `activeAt` (a
    /// session active since is left alone). True when it was removed.
    func forgetConversation(_ session: [UInt8], owner: [UInt8], activeAt: Int64, logger: Logger) async throws -> Bool

    /// Removes the owner's index, only when it names no session; true when it did.
    func deleteConversationIndex(owner: [UInt8], logger: Logger) async throws -> Bool
}

/// One session in an owner's index: times in milliseconds since 1970 (the storage's clock).
struct ConversationRow: Hashable, Sendable {
    let session: [UInt8]
    let lastActive: Int64
    let created: Int64
    let title: String?
}
