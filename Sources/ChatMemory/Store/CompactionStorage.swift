import ChatMemoryRedis
import Logging

/// What compaction needs from a storage backend, besides ``ChatStorage``: a lease per session and
/// the atomic commit of a summary. Every operation touches one key only (the lease and the
/// session are never in one script or transaction: on a cluster they hash to different slots).
///
/// Internal: ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it. A backend of your own
/// (a public ``ChatStorage``) does not, so it cannot be compacted (``ChatMemoryError/Code/unsupportedByStorage``);
/// its windows read the summary-aware way through ``ChatStorage`` alone.
protocol CompactionStorage: ChatStorage {
    /// Takes the lease at `key` for `duration` with `token`, unless someone holds it; true when
    /// taken. A lease nobody releases ends by itself when `duration` has passed.
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration, logger: Logger) async throws -> Bool

    /// Gives up the lease at `key` when it still holds `token` (a lease that expired and was taken
    /// by another compactor is left alone).
    func releaseLease(_ key: [UInt8], token: [UInt8], logger: Logger) async throws

    /// Replaces the oldest `expected.count` entries of the list (`expected` oldest first) with
    /// `summary`, in one atomic step, when they are exactly `expected` and at least `keep` newer
    /// entries stay; otherwise changes nothing and returns false. The time to live is kept.
    /// With `archive`, the replaced entries but its first `archive.skipping` (a summary they
    /// replace) move to the end of the session's transcript archive in the same step.
    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int,
                       archive: ArchiveWrite?, logger: Logger) async throws -> Bool

    /// The entries `0 ... count - 1` (newest first) and the oldest entry, read together (one
    /// round trip). `oldest` is `nil` for an empty list.
    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?)

    /// Tells storages apart, so automatic compaction coalesces checks per storage and key.
    var identity: ObjectIdentifier { get }
}

/// How one compaction writes the transcript archive (``TranscriptArchive``).
struct ArchiveWrite: Sendable, Hashable {
    /// How many of the oldest replaced entries stay out of the archive (the summary they replace: 0 or 1).
    var skipping: Int
    /// The archive's cap (``TranscriptArchive/maxMessages``).
    var maxMessages: Int?
    /// The archive's time to live from now; `nil` gives it what the session has left (or none
    /// when the session never expires).
    var timeToLive: Duration?
}

extension ChatStorage {
    /// The entries `0 ... count - 1` and the oldest entry: in one round trip when the storage can,
    /// else with two reads (the window checks the oldest entry again before it trusts either).
    func readHeadAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?) {
        if let storage = self as? any CompactionStorage {
            return try await storage.headAndOldest(key, count: count, logger: logger)
        }
        let head = try await readEntries(key, start: 0, stop: count - 1, logger: logger)
        return (head, try await readEntries(key, start: -1, stop: -1, logger: logger).first)
    }
}
