import Redis

/// Chat lists in Redis. An append is one Lua script on the session's single key (so it is atomic
/// and Redis Cluster safe); reads are plain `LRANGE`s.
struct RedisChatStorage: ChatStorage {
    let client: RedisClient

    /// KEYS[1]: the session list. ARGV: max length (0: none), TTL in ms (0: none), idempotency
    /// window, then (id prefix, entry) pairs, oldest first. Returns {appended, duplicates, length}.
    static let appendScript = RedisScript(#"""
        local key = KEYS[1]
        local cap, ttl, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
        local recent = {}
        if window > 0 then recent = redis.call('LRANGE', key, 0, window - 1) end
        local fresh, duplicates = {}, 0
        for i = 4, #ARGV, 2 do
          local prefix, seen = ARGV[i], false
          for _, entry in ipairs(recent) do
            if string.sub(entry, 1, #prefix) == prefix then seen = true break end
          end
          if not seen then
            for _, entry in ipairs(fresh) do
              if string.sub(entry, 1, #prefix) == prefix then seen = true break end
            end
          end
          if seen then duplicates = duplicates + 1 else fresh[#fresh + 1] = ARGV[i + 1] end
        end
        for first = 1, #fresh, 1000 do
          redis.call('LPUSH', key, unpack(fresh, first, math.min(first + 999, #fresh)))
        end
        if cap > 0 then redis.call('LTRIM', key, 0, cap - 1) end
        local length = redis.call('LLEN', key)
        if ttl > 0 and length > 0 then redis.call('PEXPIRE', key, ttl) end
        return {#fresh, duplicates, length}
        """#)

    func append(_ entries: [StoredEntry.Encoded], to key: [UInt8], policy: RetentionPolicy) async throws -> AppendResult {
        var arguments: [any RedisArgument] = [
            policy.maxLength ?? 0,
            policy.timeToLive.map(Self.milliseconds) ?? 0,
            policy.idempotencyWindow,
        ]
        for entry in entries {
            arguments.append(entry.idPrefix)
            arguments.append(entry.bytes)
        }
        let reply = try await mapped(key) { try await client.evaluate(Self.appendScript, keys: [key], arguments: arguments) }
        guard let numbers = reply.array?.compactMap(\.int), numbers.count == 3 else {
            throw ChatMemoryError.unexpectedReply("append script returned \(reply)")
        }
        return AppendResult(appended: numbers[0], duplicates: numbers[1], length: numbers[2])
    }

    func range(_ key: [UInt8], start: Int, stop: Int) async throws -> [[UInt8]] {
        let reply = try await mapped(key) { try await client.send("LRANGE", key, start, stop) }
        guard let items = reply.array else { throw ChatMemoryError.unexpectedReply("LRANGE returned \(reply)") }
        return items.map { $0.bytes ?? [] }
    }

    func length(_ key: [UInt8]) async throws -> Int {
        let reply = try await mapped(key) { try await client.send("LLEN", key) }
        guard let length = reply.int else { throw ChatMemoryError.unexpectedReply("LLEN returned \(reply)") }
        return length
    }

    /// KEYS[1]: the session list. Unlinks it only when it is a list: a key of another type is
    /// someone else's and is reported, not deleted. Returns 1 when a list was removed.
    static let deleteScript = RedisScript(#"""
        local kind = redis.call('TYPE', KEYS[1]).ok
        if kind == 'none' then return 0 end
        if kind ~= 'list' then return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value') end
        return redis.call('UNLINK', KEYS[1])
        """#)

    func delete(_ key: [UInt8]) async throws -> Bool {
        try await mapped(key) { try await client.evaluate(Self.deleteScript, keys: [key]) }.int == 1
    }

    func timeToLive(_ key: [UInt8]) async throws -> Duration? {
        let milliseconds = try await client.send("PTTL", key).int ?? -1
        return milliseconds >= 0 ? .milliseconds(milliseconds) : nil
    }

    func keys(withPrefix prefix: [UInt8]) async throws -> [[UInt8]] {
        let pattern = Self.globEscaped(prefix) + [UInt8(ascii: "*")]
        var cursor = "0"
        var keys: [[UInt8]] = []
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", pattern, "COUNT", 1000, "TYPE", "list")
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let batch = parts[1].array else {
                throw ChatMemoryError.unexpectedReply("SCAN returned \(reply)")
            }
            keys += batch.compactMap(\.bytes)
            cursor = next
        } while cursor != "0"
        return keys
    }

    /// Runs a command on a session key, turning `WRONGTYPE` into ``ChatMemoryError/wrongKeyType(key:)``.
    private func mapped(_ key: [UInt8], _ body: () async throws -> RedisValue) async throws -> RedisValue {
        do {
            return try await body()
        } catch let error as RedisError where error.code == .server(.wrongType) {
            throw ChatMemoryError.wrongKeyType(key: String(decoding: key, as: UTF8.self))
        }
    }

    /// Escapes the glob characters `*?[]\` so the prefix matches only itself.
    static func globEscaped(_ bytes: [UInt8]) -> [UInt8] {
        var escaped: [UInt8] = []
        for byte in bytes {
            if "*?[]\\".utf8.contains(byte) { escaped.append(UInt8(ascii: "\\")) }
            escaped.append(byte)
        }
        return escaped
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
