import Logging

/// What editing the end of a session needs from a storage backend, besides ``ChatStorage``: one
/// atomic compare-and-rewrite of its newest entries (regenerate, edit, a conditional append).
///
/// Internal: ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it. Over a backend of your own
/// (a public ``ChatStorage``) the editing operations throw
/// ``ChatMemoryError/Code/unsupportedByStorage``.
protocol EditingStorage: ChatStorage {
    /// In one atomic step: when the newest entry is the one `expectedNewest` describes (`nil`:
    /// the list must be empty), drops the entries `anchor` names, then appends `entries` as
    /// ``ChatStorage/append(_:to:policy:logger:)`` does over what stays (ids held among those
    /// are skipped, then the cap and the time to live). Otherwise changes nothing.
    func rewriteNewest(_ key: [UInt8], expectedNewest: NewestEntry?, anchor: RewriteAnchor, entries: [ChatStorageEntry],
                       policy: RetentionPolicy, logger: Logger) async throws -> RewriteResult
}

/// The newest entry a rewrite expects: the stored form of the message its caller saw, by its
/// first bytes (the id) and its last (the message itself), in either form an append may have
/// written (``StoredEntry``), so a message removed and stored again with the same id and other
/// content, or another time, does not match. The token count and counter between them may
/// differ (another worker's counter wrote it).
struct NewestEntry: Hashable, Sendable {
    /// The object form's first and last bytes.
    let idPrefix: [UInt8]
    let messageSuffix: [UInt8]
    /// The compact form's.
    let compactPrefix: [UInt8]
    let compactSuffix: [UInt8]

    init(_ message: ChatMessage) {
        idPrefix = StoredEntry.idPrefix(of: message.id)
        messageSuffix = StoredEntry.messageSuffix(of: message)
        compactPrefix = StoredEntry.compactPrefix(of: message.id)
        compactSuffix = StoredEntry.compactSuffix(of: message)
    }

    func matches(_ entry: [UInt8]) -> Bool {
        Self.entry(entry, starts: idPrefix, ends: messageSuffix) || Self.entry(entry, starts: compactPrefix, ends: compactSuffix)
    }

    private static func entry(_ entry: [UInt8], starts prefix: [UInt8], ends suffix: [UInt8]) -> Bool {
        entry.count >= prefix.count + suffix.count && entry.starts(with: prefix) && entry.suffix(suffix.count).elementsEqual(suffix)
    }
}

/// Which of the newest entries a rewrite drops.
enum RewriteAnchor: Hashable, Sendable {
    /// None: a conditional append.
    case keepAll
    /// Every entry: the session is replaced.
    case dropAll
    /// Those newer than the entry whose id key (``ChatStorageEntry/idPrefix(of:)``) is this,
    /// looked for among the newest `searchDepth` entries.
    case after(idPrefix: [UInt8], searchDepth: Int)
}

/// What a rewrite did.
enum RewriteResult: Hashable, Sendable {
    /// Done: `dropped` entries went, then the append did what it says.
    case applied(dropped: Int, AppendResult)
    /// Nothing changed: the newest entry is this one (`nil`: the list is empty).
    case newestChanged(newest: [UInt8]?)
    /// Nothing changed: no entry among the newest `searchDepth` starts with the anchor's prefix.
    case anchorNotFound
}

extension RewriteAnchor {
    /// How many of `entries` (newest first) the anchor drops, or `nil` when it is not there.
    func dropCount(in entries: [[UInt8]]) -> Int? {
        switch self {
        case .keepAll: return 0
        case .dropAll: return entries.count
        case .after(let prefix, let depth):
            return entries.prefix(depth).firstIndex { ChatStorageEntry.idPrefix(of: $0) == prefix }
        }
    }
}
