import Foundation
import Logging

/// Sessions in this process's memory, with the same behaviour as Redis (idempotent appends,
/// length cap, time to live): for one process, for tests, and for trying the library without Redis.
///
/// ```swift
/// let memory = try RedisChatMemory(storage: EmbeddedChatStorage())
/// ```
///
/// - Important: It is **not shared between workers**. Each process (each PM2 worker, each
///   Kubernetes replica, each serverless instance) gets its own, so a conversation whose turns
///   land on different workers sees different histories. Use Redis there.
public final class EmbeddedChatStorage: ChatStorage, @unchecked Sendable {
    struct List {
        var entries: [[UInt8]] = []   // newest first
        var expires: ContinuousClock.Instant?
        /// When the list was created, in creation order: what a listing's cursor counts.
        var serial: UInt64 = 0
    }

    /// A session's transcript archive (``TranscriptArchive``).
    struct Archive {
        var entries: [[UInt8]] = []   // oldest first
        var expires: ContinuousClock.Instant?
    }

    /// The most keys one listing batch looks at.
    static let batchSize = 1000

    private let lock = NSLock()
    var lists: [[UInt8]: List] = [:]
    /// The earliest expiry among the lists, so expired lists are swept only when one is due.
    private var nextExpiry: ContinuousClock.Instant?
    /// Every list's key by serial, ascending; removed lists stay until ``compact()``.
    private var created: [(serial: UInt64, key: [UInt8])] = []
    private var lastSerial: UInt64 = 0
    /// Compaction leases: key -> (holder's token, expiry).
    var leases: [[UInt8]: (token: [UInt8], expires: ContinuousClock.Instant)] = [:]
    /// Owners' lists of conversations, by owner key.
    var owners: [[UInt8]: OwnerIndex] = [:]
    /// Sessions' transcript archives, by session key.
    var archives: [[UInt8]: Archive] = [:]

    public init() {}

    /// Runs `body` on the live lists, after dropping the expired ones.
    func withLists<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        if let due = nextExpiry, due <= .now { sweepExpired() }
        return try body()
    }

    private func sweepExpired() {
        let now = ContinuousClock.now
        lists = lists.filter { $0.value.expires.map { $0 > now } ?? true }
        archives = archives.filter { $0.value.expires.map { $0 > now } ?? true }
        nextExpiry = (lists.values.compactMap(\.expires) + archives.values.compactMap(\.expires)).min()
        compact()
    }

    /// Drops removed lists from ``created`` once they are the majority (amortised constant time).
    private func compact() {
        guard created.count > 2 * lists.count + 64 else { return }
        created.removeAll { lists[$0.key]?.serial != $0.serial }
    }

    public func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        withLists { appendLocked(entries, to: key, policy: policy, dropping: 0) }
    }

    /// Sets an existing list (and, when `archive`, its transcript archive) to expire
    /// `timeToLive` from now, under the lock.
    func refreshLocked(_ key: [UInt8], to timeToLive: Duration, archive: Bool) {
        guard lists[key] != nil else { return }
        let expires = ContinuousClock.now + timeToLive
        lists[key]?.expires = expires
        if archive, archives[key] != nil { archives[key]?.expires = expires }
        nextExpiry = min(nextExpiry ?? expires, expires)
    }

    /// Sets the archive of `key` to expire at `expires` (`nil`: never), under the lock.
    func setArchiveExpiry(_ key: [UInt8], _ expires: ContinuousClock.Instant?) {
        archives[key]?.expires = expires
        if let expires { nextExpiry = min(nextExpiry ?? expires, expires) }
    }

    /// The append, under the lock (in ``withLists(_:)``), after the newest `drop` entries go.
    func appendLocked(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, dropping drop: Int) -> AppendResult {
        var list = lists[key] ?? List()
        list.entries.removeFirst(min(max(0, drop), list.entries.count))
        let (fresh, duplicates) = policy.select(entries, newestStored: list.entries)
        list.entries.insert(contentsOf: fresh.reversed(), at: 0)
        if let cap = policy.maxLength, list.entries.count > cap { list.entries.removeLast(list.entries.count - cap) }
        if list.entries.isEmpty {
            lists[key] = nil
        } else {
            if list.serial == 0 {
                lastSerial += 1
                list.serial = lastSerial
                created.append((lastSerial, key))
            }
            lists[key] = list
        }
        if let ttl = policy.timeToLive { refreshLocked(key, to: ttl, archive: false) }
        return AppendResult(appended: fresh.count, duplicates: duplicates, length: list.entries.count)
    }

    public func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        withLists {
            guard let entries = lists[key]?.entries else { return [] }
            let count = entries.count
            let first = max(0, start < 0 ? count + start : start)
            let last = min(count - 1, stop < 0 ? count + stop : stop)
            return first <= last ? Array(entries[first...last]) : []
        }
    }

    public func length(_ key: [UInt8], logger: Logger) async throws -> Int {
        withLists { lists[key]?.entries.count ?? 0 }
    }

    public func delete(_ key: [UInt8], logger: Logger) async throws -> Bool {
        withLists {
            defer { compact() }
            archives[key] = nil
            return lists.removeValue(forKey: key) != nil
        }
    }

    public func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? {
        withLists { lists[key]?.expires.map { $0 - .now } }
    }

    /// Walks the lists in creation order, at most 1,000 per batch; the cursor is the
    /// serial of the last list looked at, so every list that lives through the listing is
    /// returned exactly once.
    public func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
        guard let after = cursor.map({ UInt64($0) }) ?? 0 else {
            throw ChatMemoryError.unexpectedReply("\((cursor ?? "").prefix(64)) is not a cursor of this storage")
        }
        return withLists {
            var low = 0, high = created.count
            while low < high {
                let middle = (low + high) / 2
                if created[middle].serial <= after { low = middle + 1 } else { high = middle }
            }
            let batch = created[low..<min(low + Self.batchSize, created.count)]
            let keys = batch.filter { lists[$0.key]?.serial == $0.serial && $0.key.starts(with: prefix) }.map(\.key)
            let next = batch.endIndex < created.count ? batch.last.map { String($0.serial) } : nil
            return (keys, next)
        }
    }
}
