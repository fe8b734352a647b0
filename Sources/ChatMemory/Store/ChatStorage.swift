/// Where a chat memory keeps its lists: Redis, or process memory. Each session is one list of
/// encoded entries, newest at index 0; every operation touches one session's list only.
protocol ChatStorage: CompactionStorage {
    /// Pushes the entries (oldest first, so the last ends up at the head) in one atomic step, as
    /// ``RetentionPolicy/fresh(_:held:)`` picks them from the ids held among the newest
    /// `entries.count + idempotencyWindow` entries; then caps the list at `maxLength` and
    /// refreshes its time to live. Nothing is written when the call fails.
    func append(_ entries: [StoredEntry.Encoded], to key: [UInt8], policy: RetentionPolicy) async throws -> AppendResult

    /// The entries from `start` to `stop` inclusive, newest first (negative indexes count from the end).
    func range(_ key: [UInt8], start: Int, stop: Int) async throws -> [[UInt8]]

    /// The number of entries, foreign ones included.
    func length(_ key: [UInt8]) async throws -> Int

    /// Removes the list; true when it existed.
    func delete(_ key: [UInt8]) async throws -> Bool

    /// The remaining time to live; `nil` when the list has none or does not exist.
    func timeToLive(_ key: [UInt8]) async throws -> Duration?

    /// Every key that starts with `prefix` and holds a list, without blocking the server.
    func keys(withPrefix prefix: [UInt8]) async throws -> [[UInt8]]
}

/// What an append keeps and for how long (validated by ``ChatMemoryConfiguration``).
struct RetentionPolicy: Sendable {
    var maxLength: Int?
    var timeToLive: Duration?
    var idempotencyWindow: Int

    /// The entries of a batch to push (oldest first) and how many count as already stored.
    ///
    /// `held` answers whether the session holds an id prefix among its newest
    /// `batch.count + idempotencyWindow` entries. The newest message of the batch the session
    /// holds, and every older message of the batch, count as stored: a retry is a no-op even
    /// after the cap trimmed the older ones, and a batch never lands on top of its own newer
    /// messages. The rest is pushed, skipping repeats within the batch.
    static func fresh(_ batch: [StoredEntry.Encoded], held: (ArraySlice<UInt8>) -> Bool) -> (fresh: [[UInt8]], duplicates: Int) {
        let stored = (batch.lastIndex { held($0.idPrefix[...]) }).map { $0 + 1 } ?? 0
        var seen = Set<[UInt8]>()
        var fresh: [[UInt8]] = []
        for entry in batch[stored...] where seen.insert(entry.idPrefix).inserted {
            fresh.append(entry.bytes)
        }
        return (fresh, batch.count - fresh.count)
    }

    /// A time to live in whole milliseconds, at least 1.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// What an append did.
public struct AppendResult: Sendable, Hashable {
    /// Messages written.
    public var appended: Int
    /// Messages not written because the session already had them (a retried append): those whose
    /// id it holds, those older in the batch than one it holds, and repeats within the batch.
    public var duplicates: Int
    /// The session's length after the append (and after the cap).
    public var length: Int

    public init(appended: Int, duplicates: Int, length: Int) {
        self.appended = appended
        self.duplicates = duplicates
        self.length = length
    }
}
