/// What compaction needs from a storage backend, besides ``ChatStorage``: a lease per session and
/// the atomic commit of a summary. Every operation touches one key only.
protocol CompactionStorage: Sendable {
    /// Takes the lease at `key` for `duration` with `token`, unless someone holds it; true when
    /// taken. A lease nobody releases ends by itself when `duration` has passed.
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration) async throws -> Bool

    /// Gives up the lease at `key` when it still holds `token` (a lease that expired and was taken
    /// by another compactor is left alone).
    func releaseLease(_ key: [UInt8], token: [UInt8]) async throws

    /// Replaces the oldest `expected.count` entries of the list (`expected` oldest first) with
    /// `summary`, in one atomic step, when they are exactly `expected` and at least `keep` newer
    /// entries stay; otherwise changes nothing and returns false. The time to live is kept.
    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int) async throws -> Bool

    /// The entries `0 ... count - 1` (newest first) and the oldest entry, read together (one
    /// round trip). `oldest` is `nil` for an empty list.
    func headAndOldest(_ key: [UInt8], count: Int) async throws -> (head: [[UInt8]], oldest: [UInt8]?)

    /// Tells storages apart, so automatic compaction coalesces checks per storage and key.
    var identity: ObjectIdentifier { get }
}
