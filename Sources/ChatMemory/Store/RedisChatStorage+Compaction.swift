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

    /// KEYS[1]: the session list, KEYS[2] (when archiving): its transcript archive (``archiveKey(of:)``).
    /// ARGV[1]: how many newer entries must stay (at least 1, so the list never empties and keeps
    /// its time to live), ARGV[2]: the summary entry, ARGV[3]: how many of the oldest expected
    /// entries stay out of the archive ('' : archive nothing), ARGV[4]: the archive's cap ('' :
    /// none), ARGV[5]: its time to live in ms ('' : the session's), then the expected oldest
    /// entries, oldest first. Returns 1 when committed, 0 when the oldest entries are not (or no
    /// longer) the expected ones.
    ///
    /// The compare-and-set: the oldest entries are compared byte for byte; on a match the
    /// archived ones are pushed at the archive's end (its cap trims its oldest, its time to live
    /// is set), the first of them becomes the summary (`LSET`) and the others are trimmed
    /// (`LTRIM`), so appends at the head, before or after, are untouched. Every command is
    /// checked with `redis.acl_check_cmd` (Redis 7, Valkey) or, without it (Redis 6.2), tried in a
    /// form that changes nothing (`LTRIM 0 -1`, `LSET` of the value already there, the archive's
    /// final time to live) before the first write that changes something, the archive's `RPUSH`;
    /// so a command an ACL user may not run fails as `NOPERM` with nothing changed.
    static let commitScript = storeScript(probeFunction + #"""
        local key, archive, keep, summary = KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2]
        local skip, cap, ttl = ARGV[3], ARGV[4], ARGV[5]
        local count = #ARGV - 5
        if count < 1 or run('LLEN', key) < count + keep then return 0 end
        local oldest = run('LRANGE', key, -count, -1)
        for i = 1, count do
          if oldest[count + 1 - i] ~= ARGV[5 + i] then return 0 end
        end
        if skip ~= '' then
          local kind = run('TYPE', archive).ok
          if kind ~= 'none' and kind ~= 'list' then
            error({err = 'WRONGTYPE the transcript archive holds the wrong kind of value'})
          end
          probe('rpush', archive, 'x')
          if ttl == '' then
            local left = run('PTTL', key)
            if left > 0 then ttl = tostring(left) end
          end
          if cap ~= '' then try('LTRIM', archive, '0', '-1') end
          if ttl ~= '' then try('PEXPIRE', archive, ttl) else try('PERSIST', archive) end
        end
        try('LTRIM', key, '0', '-1')
        try('LSET', key, -count, ARGV[5 + count])
        if skip ~= '' then
          local first = tonumber(skip) + 1
          for from = first, count, 1000 do
            run('RPUSH', archive, unpack(ARGV, 5 + from, 5 + math.min(from + 999, count)))
          end
          if cap ~= '' then run('LTRIM', archive, '-' .. cap, '-1') end
          if ttl ~= '' then run('PEXPIRE', archive, ttl) else run('PERSIST', archive) end
        end
        run('LSET', key, -count, summary)
        run('LTRIM', key, 0, -count)
        return 1
        """#)

    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int,
                       archive: ArchiveWrite?, logger: Logger) async throws -> Bool {
        var arguments: [any RedisArgument] = [max(1, keep), summary, archive.map { String($0.skipping) } ?? "",
                                              archive?.maxMessages.map(String.init) ?? "",
                                              archive?.timeToLive.map { String(RetentionPolicy.milliseconds($0)) } ?? ""]
        arguments.reserveCapacity(5 + expected.count)
        for entry in expected { arguments.append(entry) }
        // Without an archive the script names no archive key (an ACL user may lack its rule).
        let keys = archive == nil ? [key] : [key, Self.archiveKey(of: key)]
        let reply = try await mapped(key, archive: keys.last) {
            try await client.evaluate(Self.commitScript, keys: keys, arguments: arguments, logger: logger)
        }
        guard let committed = reply.int else { throw ChatMemoryError.unexpectedReply("commit script returned \(reply.shape)") }
        return committed == 1
    }

    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?) {
        let replies = try await mapped(key) {
            let replies = try await client.pipeline([RedisCommand("LRANGE", key, 0, count - 1), RedisCommand("LRANGE", key, -1, -1)], logger: logger)
            return RedisValue.array(try replies.map { try $0.get() })
        }
        guard let parts = replies.array, parts.count == 2, let head = parts[0].array, let oldest = parts[1].array else {
            throw ChatMemoryError.unexpectedReply("LRANGE returned \(replies.shape)")
        }
        return (head.map(Self.entry), oldest.first.map(Self.entry))
    }

    var identity: ObjectIdentifier { ObjectIdentifier(client) }
}
