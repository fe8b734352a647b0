import Logging

/// What editing the end of a session needs from a storage backend, besides ``ChatStorage``: one
/// atomic compare-and-rewrite of its newest entries (regenerate, edit, a conditional append).
///
/// Internal: ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it. Over a backend of your own
/// (a public ``ChatStorage``) the editing operations throw
/// ``ChatMemoryError/Code/unsupportedByStorage``.
protocol EditingStorage: ChatStorage {
    /// In one atomic step: when the newest entry starts with `expectedNewest` (an id prefix;
    /// `nil`: the list must be empty), drops the entries `anchor` names, then appends `entries` as
    /// ``ChatStorage/append(_:to:policy:logger:)`` does over what stays (ids held among those
    /// are skipped, then the cap and the time to live). Otherwise changes nothing.
    func rewriteNewest(_ key: [UInt8], expectedNewest: [UInt8]?, anchor: RewriteAnchor, entries: [ChatStorageEntry],
                       policy: RetentionPolicy, logger: Logger) async throws -> RewriteResult
}

/// Which of the newest entries a rewrite drops.
enum RewriteAnchor: Hashable, Sendable {
    /// None: a conditional append.
    case keepAll
    /// Every entry: the session is replaced.
    case dropAll
    /// Those newer than the entry that starts with this id prefix, looked for among the newest
    /// `searchDepth` entries.
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
            return entries.prefix(depth).firstIndex { $0.starts(with: prefix) }
        }
    }
}
