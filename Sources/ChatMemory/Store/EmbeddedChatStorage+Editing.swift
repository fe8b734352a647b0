import Logging

extension EmbeddedChatStorage: EditingStorage {
    func rewriteNewest(_ key: [UInt8], expectedNewest: NewestEntry?, anchor: RewriteAnchor, entries: [ChatStorageEntry],
                       policy: RetentionPolicy, logger: Logger) async throws -> RewriteResult {
        withLists {
            let current = lists[key]?.entries ?? []
            let newest = current.first
            let matches = expectedNewest.map { expected in newest.map(expected.matches) ?? false } ?? (newest == nil)
            guard matches else { return .newestChanged(newest: newest) }
            guard let drop = anchor.dropCount(in: current) else { return .anchorNotFound }
            return .applied(dropped: drop, appendLocked(entries, to: key, policy: policy, dropping: drop))
        }
    }
}
