import ChatMemoryRedis
import Logging

extension RedisChatStorage: CompactionStorage {
    /// `SET lease token NX PX ms`: one command on the lease's own key.
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration, logger: Logger) async throws -> Bool {
        let reply = try await client.send("SET", key, token, "NX", "PX", String(RetentionPolicy.milliseconds(duration)), logger: logger)
        return !reply.isNull
    }

    /// KEYS[1]: the lease. ARGV[1]: the holder's token. Unlinks the lease only when it is still
    /// the holder's. Returns 1 when it was.
    static let releaseScript = storeScript(#"""
        if run('GET', KEYS[1]) == ARGV[1] then return run('UNLINK', KEYS[1]) end
        return 0
        """#)

    func releaseLease(_ key: [UInt8], token: [UInt8], logger: Logger) async throws {
        try await client.evaluate(Self.releaseScript, keys: [key], arguments: [token], logger: logger)
    }

    /// KEYS[1]: the session list. ARGV[1]: how many newer entries must stay (at least 1, so the
    /// list never empties and keeps its time to live), ARGV[2]: the summary entry, then the
    /// expected oldest entries, oldest first. Returns 1 when committed, 0 when the oldest entries
    /// are not (or no longer) the expected ones.
    ///
    /// The compare-and-set: the oldest entries are compared byte for byte; on a match the first
    /// of them becomes the summary (`LSET`) and the others are trimmed (`LTRIM`), so appends at
    /// the head, before or after, are untouched. `LTRIM 0 -1` is tried before the first write,
    /// so a command an ACL user may not run fails as `NOPERM` with nothing written.
    static let commitScript = storeScript(#"""
        local key, keep, summary = KEYS[1], tonumber(ARGV[1]), ARGV[2]
        local count = #ARGV - 2
        if count < 1 or run('LLEN', key) < count + keep then return 0 end
        local oldest = run('LRANGE', key, -count, -1)
        for i = 1, count do
          if oldest[count + 1 - i] ~= ARGV[2 + i] then return 0 end
        end
        run('LTRIM', key, 0, -1)
        run('LSET', key, -count, summary)
        run('LTRIM', key, 0, -count)
        return 1
        """#)

    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int, logger: Logger) async throws -> Bool {
        var arguments: [any RedisArgument] = [max(1, keep), summary]
        arguments.reserveCapacity(2 + expected.count)
        for entry in expected { arguments.append(entry) }
        let reply = try await mapped(key) { try await client.evaluate(Self.commitScript, keys: [key], arguments: arguments, logger: logger) }
        guard let committed = reply.int else { throw ChatMemoryError.unexpectedReply("commit script returned \(reply.shape)") }
        return committed == 1
    }

    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [[UInt8]], oldest: [UInt8]?) {
        let replies = try await mapped(key) {
            let replies = try await client.pipeline([RedisCommand("LRANGE", key, 0, count - 1), RedisCommand("LRANGE", key, -1, -1)], logger: logger)
            return RedisValue.array(try replies.map { try $0.get() })
        }
        guard let parts = replies.array, parts.count == 2, let head = parts[0].array, let oldest = parts[1].array else {
            throw ChatMemoryError.unexpectedReply("LRANGE returned \(replies.shape)")
        }
        return (head.map { $0.bytes ?? [] }, oldest.first.map { $0.bytes ?? [] })
    }

    var identity: ObjectIdentifier { ObjectIdentifier(client) }
}
