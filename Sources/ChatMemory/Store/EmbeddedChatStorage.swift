import Foundation

/// Chat lists in this process's memory, with the same semantics as ``RedisChatStorage``
/// (idempotent appends, length cap, time to live). Not shared between processes.
final class EmbeddedChatStorage: ChatStorage, @unchecked Sendable {
    struct List {
        var entries: [[UInt8]] = []   // newest first
        var expires: ContinuousClock.Instant?
    }

    private let lock = NSLock()
    private var lists: [[UInt8]: List] = [:]
    /// The earliest expiry among the lists, so expired lists are swept only when one is due.
    private var nextExpiry: ContinuousClock.Instant?
    /// Compaction leases: key -> (holder's token, expiry).
    var leases: [[UInt8]: (token: [UInt8], expires: ContinuousClock.Instant)] = [:]

    /// Runs `body` on the live lists, after dropping the expired ones.
    func withLists<R>(_ body: (inout [[UInt8]: List]) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        if let due = nextExpiry, due <= .now { sweepExpired() }
        return try body(&lists)
    }

    private func sweepExpired() {
        let now = ContinuousClock.now
        lists = lists.filter { $0.value.expires.map { $0 > now } ?? true }
        nextExpiry = lists.values.compactMap(\.expires).min()
    }

    func append(_ entries: [StoredEntry.Encoded], to key: [UInt8], policy: RetentionPolicy) async throws -> AppendResult {
        withLists { lists in
            var list = lists[key] ?? List()
            var held = Set<ArraySlice<UInt8>>()
            if policy.idempotencyWindow > 0 {
                for entry in list.entries.prefix(entries.count + policy.idempotencyWindow) {
                    if let prefix = StoredEntry.idPrefix(of: entry) { held.insert(prefix) }
                }
            }
            let (fresh, duplicates) = RetentionPolicy.fresh(entries) { held.contains($0) }
            list.entries.insert(contentsOf: fresh.reversed(), at: 0)
            if let cap = policy.maxLength, list.entries.count > cap { list.entries.removeLast(list.entries.count - cap) }
            if let ttl = policy.timeToLive, !list.entries.isEmpty {
                let expires = ContinuousClock.now + ttl
                list.expires = expires
                nextExpiry = min(nextExpiry ?? expires, expires)
            }
            lists[key] = list.entries.isEmpty ? nil : list
            return AppendResult(appended: fresh.count, duplicates: duplicates, length: list.entries.count)
        }
    }

    func range(_ key: [UInt8], start: Int, stop: Int) async throws -> [[UInt8]] {
        withLists { lists in
            guard let entries = lists[key]?.entries else { return [] }
            let count = entries.count
            let first = max(0, start < 0 ? count + start : start)
            let last = min(count - 1, stop < 0 ? count + stop : stop)
            return first <= last ? Array(entries[first...last]) : []
        }
    }

    func length(_ key: [UInt8]) async throws -> Int {
        withLists { $0[key]?.entries.count ?? 0 }
    }

    func delete(_ key: [UInt8]) async throws -> Bool {
        withLists { $0.removeValue(forKey: key) != nil }
    }

    func timeToLive(_ key: [UInt8]) async throws -> Duration? {
        withLists { lists in lists[key]?.expires.map { $0 - .now } }
    }

    func keys(withPrefix prefix: [UInt8]) async throws -> [[UInt8]] {
        withLists { lists in lists.keys.filter { $0.starts(with: prefix) } }
    }
}
