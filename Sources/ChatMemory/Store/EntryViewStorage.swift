import ChatMemoryRedis
import Logging

/// A storage whose reads hand out entries as views of the reply they came in (``RedisBytes``),
/// so that reading a page copies each entry once: Redis's strings, from hiredis's read buffer
/// into the reply's one buffer. Internal: ``RedisChatStorage`` adopts it; any other storage's
/// ``ChatStorage/range(_:start:stop:logger:)`` arrays are wrapped (not copied).
protocol EntryViewStorage: ChatStorage {
    /// ``ChatStorage/range(_:start:stop:logger:)``'s entries, as views.
    func entries(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [RedisBytes]
}

extension ChatStorage {
    /// The entries from `start` to `stop` inclusive, newest first, as the reads decode them.
    func readEntries(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [RedisBytes] {
        if let storage = self as? any EntryViewStorage {
            return try await storage.entries(key, start: start, stop: stop, logger: logger)
        }
        return try await range(key, start: start, stop: stop, logger: logger).map(RedisBytes.init)
    }
}
