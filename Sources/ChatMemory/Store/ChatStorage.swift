/// Where a chat memory keeps its lists: Redis, or process memory. Each session is one list of
/// encoded entries, newest at index 0; every operation touches one session's list only.
protocol ChatStorage: Sendable {
    /// Pushes the entries (oldest first, so the last ends up at the head) in one atomic step,
    /// skipping any whose id prefix is among the newest `idempotencyWindow` entries or earlier in
    /// the batch; then caps the list at `maxLength` and refreshes its time to live.
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

/// What an append keeps and for how long.
struct RetentionPolicy: Sendable {
    var maxLength: Int?
    var timeToLive: Duration?
    var idempotencyWindow: Int
}

/// What an append did.
public struct AppendResult: Sendable, Hashable {
    /// Messages written.
    public var appended: Int
    /// Messages skipped because the session already had them (a retried append).
    public var duplicates: Int
    /// The session's length after the append (and after the cap).
    public var length: Int

    public init(appended: Int, duplicates: Int, length: Int) {
        self.appended = appended
        self.duplicates = duplicates
        self.length = length
    }
}
