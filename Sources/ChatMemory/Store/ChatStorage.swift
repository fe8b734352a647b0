import Logging

/// Where a ``RedisChatMemory`` keeps its sessions: Redis (``RedisChatMemory/init(client:configuration:logger:)``),
/// process memory (``EmbeddedChatStorage``), or a backend of your own.
///
/// ```swift
/// let memory = try RedisChatMemory(storage: EmbeddedChatStorage())
/// ```
///
/// `logger` is the caller's (the per-call logger of ``ChatSession``), for any lines the backend logs.
///
/// ## The contract
///
/// A key (the configured prefix followed by the session id's bytes, any bytes) names one list of
/// entries (opaque byte strings), newest at index 0. A list with no entries does not exist: its
/// length is 0, its range empty, `delete` returns false and listings skip it. An expired list
/// does not exist either. Every method may be called from many tasks at once (and from many
/// processes, for a shared backend), and each must act on one key as one indivisible step: no
/// other call ever sees half of it.
///
/// - ``append(_:to:policy:logger:)``: atomically, (1) read the newest
///   `entries.count + policy.idempotencyWindow` entries (none when the window is 0) and let
///   ``RetentionPolicy/select(_:newestStored:)`` pick what to push; (2) push those entries in
///   order, so the last one ends at index 0; (3) keep only the newest `policy.maxLength`
///   entries; (4) when the list is not empty, make it expire `policy.timeToLive` from now (or
///   never, when `nil`: leave an existing expiry alone). Return what was pushed, the duplicates,
///   and the length after the cap. When it throws, nothing may have been written, unless the
///   backend cannot know (a lost connection): then the caller retries, and step 1 makes the
///   retry a no-op for what the first attempt wrote.
/// - ``range(_:start:stop:logger:)``: the entries from `start` to `stop` inclusive, newest first,
///   exactly as `LRANGE` does: a negative index counts from the end (`-1` is the oldest), the
///   bounds are clamped to the list, and an empty or missing range is `[]`. All from one
///   instant: never a mix of before and after an append.
/// - ``length(_:logger:)``, ``delete(_:logger:)`` (removes the whole list; true when it existed),
///   ``timeToLive(_:logger:)`` (`nil` when the list never expires or does not exist).
/// - ``keys(withPrefix:cursor:)``: one batch of a listing, as `SCAN` gives: start with a `nil`
///   cursor and pass back each returned cursor until it is `nil`. Every key that starts with
///   `prefix` and holds a list during the whole listing must be returned at least once; a key
///   created or removed meanwhile may be returned or not, and a key may be returned twice. A
///   batch may be empty while the cursor is not `nil`. Keep batches bounded (about a thousand
///   keys), so a listing of millions never sits in memory at once.
///
/// When a key holds something that is not a list (another application's value), throw
/// ``ChatMemoryError/wrongKeyType(key:)`` and leave it alone; for a reply of the wrong shape,
/// ``ChatMemoryError/unexpectedReply(_:)``. Entries the backend did not get from ``append(_:to:policy:logger:)``
/// may sit in a list (typed by hand): return them as they are; the reader skips what it cannot decode.
///
/// ## Compaction
///
/// Compaction (``ChatSession/compact(targetTokens:summarizer:logger:)``) needs a lease per
/// session and an atomic compare-and-set commit of a summary, which are not part of this
/// protocol: only Redis and ``EmbeddedChatStorage`` provide them. Over a backend of your own,
/// `compact` throws ``ChatMemoryError/Code/unsupportedByStorage`` and
/// ``CompactionSettings/automatic`` never runs; windows still lead with a summary that is
/// stored (reading the oldest entry with one more ``range(_:start:stop:logger:)``).
public protocol ChatStorage: Sendable {
    /// Pushes the entries (oldest first) that ``RetentionPolicy/select(_:newestStored:)`` picks,
    /// caps the list and refreshes its time to live, in one atomic step.
    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult

    /// The entries from `start` to `stop` inclusive, newest first (negative indexes count from the end).
    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]]

    /// The number of entries, foreign ones included.
    func length(_ key: [UInt8], logger: Logger) async throws -> Int

    /// Removes the list; true when it existed.
    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool

    /// The remaining time to live; `nil` when the list has none or does not exist.
    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration?

    /// One batch of the keys that start with `prefix` and hold a list, from `cursor` (`nil`: the
    /// first batch), and the cursor of the next batch (`nil`: the listing is complete).
    func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?)
}

/// One message as a ``ChatStorage`` stores it: the encoded entry, and its message's id key
/// (`{"id":"…",`), by which a retried append recognises it whatever form wrote the entry.
public struct ChatStorageEntry: Sendable, Hashable {
    /// The whole entry, the bytes to store.
    public let bytes: [UInt8]
    /// The message's id key, `{"id":"<id, escaped>",` (what ``idPrefix(of:)`` gives for
    /// ``bytes``).
    public let idPrefix: [UInt8]

    init(bytes: [UInt8], idPrefix: [UInt8]) {
        self.bytes = bytes
        self.idPrefix = idPrefix
    }

    /// The id key `{"id":"…",` of a stored entry: its first bytes in the object form, built
    /// from the first element of the compact form (`["…",`); `nil` when the entry starts with
    /// neither (it was not written by an append).
    public static func idPrefix(of bytes: [UInt8]) -> [UInt8]? {
        let object = Array(#"{"id":""#.utf8)
        let compact = bytes.first == UInt8(ascii: "[") && bytes.dropFirst().first == UInt8(ascii: "\"")
        guard compact || bytes.starts(with: object) else { return nil }
        var index = compact ? 2 : object.count
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                guard index + 1 < bytes.count else { return nil }
                if !compact { return Array(bytes[...(index + 1)]) }
                guard bytes[index + 1] == UInt8(ascii: ",") else { return nil }
                return Array(#"{"id":"#.utf8) + bytes[1...(index + 1)]
            default: index += 1
            }
        }
        return nil
    }
}

/// What an append keeps and for how long (from a validated ``ChatMemoryConfiguration``).
public struct RetentionPolicy: Sendable, Hashable {
    /// Keep at most this many newest entries; `nil` keeps all (at least 1).
    public var maxLength: Int?
    /// Expire the list this long after the append; `nil` sets no expiry.
    public var timeToLive: Duration?
    /// How many entries appended by others a retry looks past (0: no check).
    public var idempotencyWindow: Int
    /// Replicas a Redis append waits for (``ChatMemoryConfiguration/replication``); other
    /// backends never get one.
    var replication: ChatMemoryConfiguration.Replication?

    init(maxLength: Int?, timeToLive: Duration?, idempotencyWindow: Int, replication: ChatMemoryConfiguration.Replication? = nil) {
        self.maxLength = maxLength
        self.timeToLive = timeToLive
        self.idempotencyWindow = idempotencyWindow
        self.replication = replication
    }

    /// The entries of `batch` to push (oldest first) and how many count as already stored, given
    /// the list's entries newest first (at least its newest `batch.count + idempotencyWindow`;
    /// later ones are not looked at).
    ///
    /// The newest entry of the batch whose id the list holds, and every older entry of the
    /// batch, count as stored: a retry is a no-op even after the cap trimmed the older ones, and
    /// a batch never lands on top of its own newer messages. The rest is pushed, skipping
    /// repeats within the batch.
    public func select(_ batch: [ChatStorageEntry], newestStored: some Sequence<[UInt8]>) -> (fresh: [[UInt8]], duplicates: Int) {
        var held = Set<[UInt8]>()
        if idempotencyWindow > 0 {
            let (looked, overflow) = batch.count.addingReportingOverflow(idempotencyWindow)
            for entry in newestStored.prefix(overflow ? Int.max : looked) {
                if let prefix = ChatStorageEntry.idPrefix(of: entry) { held.insert(prefix) }
            }
        }
        let stored = (batch.lastIndex { held.contains($0.idPrefix) }).map { $0 + 1 } ?? 0
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
