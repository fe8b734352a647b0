import Foundation
import Logging

extension EmbeddedChatStorage: ConversationIndexStorage {
    /// One owner's list, as Redis keeps it: last-active times (ms, this process's clock) that only
    /// grow, creation times and titles, and an expiry.
    struct OwnerIndex {
        var active: [[UInt8]: Int64] = [:]
        var created: [[UInt8]: Int64] = [:]
        var titles: [[UInt8]: String] = [:]
        var expires: ContinuousClock.Instant?

        var isEmpty: Bool { active.isEmpty && created.isEmpty && titles.isEmpty }
    }

    /// Runs `body` on the owner's index (dropped first when expired), and drops it when it is left empty.
    private func withOwner<R>(_ owner: [UInt8], _ body: (inout OwnerIndex) throws -> R) rethrows -> R {
        try withLists {
            var index = owners[owner] ?? OwnerIndex()
            if let expires = index.expires, expires <= .now { index = OwnerIndex() }
            let result = try body(&index)
            owners[owner] = index.isEmpty ? nil : index
            return result
        }
    }

    private static var now: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    func touchConversation(_ session: [UInt8], owner: [UInt8], timeToLive: Duration?, logger: Logger) async throws {
        withOwner(owner) { index in
            let fresh = index.isEmpty
            var now = Self.now
            if let previous = index.active[session] { now = max(now, previous + 1) }
            index.active[session] = now
            if index.created[session] == nil { index.created[session] = now }
            if fresh {
                index.expires = timeToLive.map { .now + $0 }
            } else {
                Self.keep(&index, for: timeToLive)
            }
        }
    }

    /// The index expires no sooner than `timeToLive` from now (`nil`: never); only ever later.
    private static func keep(_ index: inout OwnerIndex, for timeToLive: Duration?) {
        guard let expires = index.expires else { return }
        guard let timeToLive else { index.expires = nil; return }
        index.expires = max(expires, .now + timeToLive)
    }

    func refreshConversationIndex(owner: [UInt8], to timeToLive: Duration, logger: Logger) async throws {
        withOwner(owner) { Self.keep(&$0, for: timeToLive) }
    }

    func setConversationTitle(_ title: String?, session: [UInt8], owner: [UInt8], logger: Logger) async throws -> Bool {
        withOwner(owner) { index in
            guard index.active[session] != nil else { return false }
            index.titles[session] = title
            return true
        }
    }

    func conversationPage(owner: [UInt8], after cursor: ConversationCursor?, limit: Int, logger: Logger) async throws
        -> (rows: [ConversationRow], next: ConversationCursor?) {
        let rows = withOwner(owner) { index in
            // Redis's order: score descending, then id descending (byte order).
            index.active.map { ConversationRow(session: $0.key, lastActive: $0.value, created: index.created[$0.key] ?? $0.value, title: index.titles[$0.key]) }
                .filter { row in cursor.map(row.isBelow) ?? true }
                .sorted { $0.lastActive != $1.lastActive ? $0.lastActive > $1.lastActive : $1.session.lexicographicallyPrecedes($0.session) }
                .prefix(limit)
        }
        return (Array(rows), ConversationRow.cursor(after: Array(rows), limit: limit))
    }

    func forgetConversation(_ session: [UInt8], owner: [UInt8], activeAt: Int64, logger: Logger) async throws -> Bool {
        withOwner(owner) { index in
            guard index.active[session] == activeAt else { return false }
            index.active[session] = nil
            index.created[session] = nil
            index.titles[session] = nil
            return true
        }
    }

    func deleteConversationIndex(owner: [UInt8], logger: Logger) async throws -> Bool {
        withOwner(owner) { index in
            guard index.active.isEmpty else { return false }
            index = OwnerIndex()
            return true
        }
    }
}
