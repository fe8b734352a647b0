import ChatMemoryRedis
import Logging

/// Chat lists in Redis. An append is one Lua script on the session's single key (so it is atomic
/// and Redis Cluster safe); reads are plain `LRANGE`s.
struct RedisChatStorage: ChatStorage {
    let client: RedisClient

    /// `run(command, ...)`: `redis.call`, except that a command the ACL user may not run fails
    /// as `NOPERM` naming it (inside a script Redis says only `ERR ... can't run this command`).
    static let runFunction = #"""
        local function run(...)
          local reply = redis.pcall(...)
          if type(reply) == 'table' and reply.err then
            if string.find(reply.err, "can't run this command", 1, true) then
              error({err = "NOPERM this user has no permissions to run the '" .. string.lower((...)) .. "' command"})
            end
            error(reply)
          end
          return reply
        end

        """#

    /// Every command this storage, its scripts and the client under it send, as ACL names: on a
    /// cluster the client reads the slot map (`CLUSTER SLOTS`) and follows `ASK` (`ASKING`); with
    /// Sentinel it checks the primary's `ROLE`; with ``ChatMemoryConfiguration/replication`` an
    /// append ends with `WAIT`.
    static let commandsUsed = ["evalsha", "script|load", "lrange", "llen", "ltrim", "lpush", "pexpire",
                               "pttl", "scan", "type", "unlink", "cluster|slots", "asking", "role", "wait",
                               "lset", "set", "get"]

    /// KEYS[1]: the session list. ARGV[1]: the last index `LTRIM` keeps ('' : no cap), ARGV[2]:
    /// the time to live in ms ('' : none), ARGV[3]: the idempotency window, then (id prefix,
    /// entry) pairs, oldest first. Returns {appended, duplicates, length}.
    ///
    /// The ids held among the newest `batch + window` entries are read once into a set (the
    /// prefix `{"id":"…",` of each entry); the newest message of the batch that the session
    /// already holds, and every older one of the batch, count as stored; the rest is pushed,
    /// skipping repeats within the batch. Work is linear in the batch and the window. Every
    /// argument was validated by the caller, and every command is tried before the first write
    /// (`LTRIM 0 -1` and `PEXPIRE` change nothing yet), so nothing fails after it: a command an
    /// ACL user may not run is reported as `NOPERM` naming it, with nothing written.
    static let appendScript = RedisScript(runFunction + #"""
        local key, stop, ttl, window = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
        local count = (#ARGV - 3) / 2
        local held = {}
        if window > 0 then
          local recent = run('LRANGE', key, 0, count + window - 1)
          for i = 1, #recent do
            local entry = recent[i]
            if string.sub(entry, 1, 7) == '{"id":"' then
              local from = 8
              while true do
                local at = string.find(entry, '["\\]', from)
                if not at then break end
                if string.byte(entry, at) == 92 then from = at + 2
                else held[string.sub(entry, 1, at + 1)] = true break end
              end
            end
          end
        end
        local stored = 0
        for i = count, 1, -1 do
          if held[ARGV[2 + 2 * i]] then stored = i break end
        end
        local fresh, duplicates = {}, stored
        for i = stored + 1, count do
          local prefix = ARGV[2 + 2 * i]
          if held[prefix] then duplicates = duplicates + 1
          else held[prefix] = true fresh[#fresh + 1] = ARGV[3 + 2 * i] end
        end
        local length = run('LLEN', key)
        if stop ~= '' then run('LTRIM', key, 0, -1) end
        if ttl ~= '' then run('PEXPIRE', key, ttl) end
        for first = 1, #fresh, 1000 do
          run('LPUSH', key, unpack(fresh, first, math.min(first + 999, #fresh)))
        end
        length = length + #fresh
        if stop ~= '' then
          run('LTRIM', key, 0, stop)
          length = math.min(length, tonumber(stop) + 1)
        end
        if ttl ~= '' and length > 0 then run('PEXPIRE', key, ttl) end
        return {#fresh, duplicates, length}
        """#)

    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        var arguments: [any RedisArgument] = [
            policy.maxLength.map { String($0 - 1) } ?? "",
            policy.timeToLive.map { String(RetentionPolicy.milliseconds($0)) } ?? "",
            policy.idempotencyWindow,
        ]
        arguments.reserveCapacity(3 + 2 * entries.count)
        for entry in entries {
            arguments.append(entry.idPrefix)
            arguments.append(entry.bytes)
        }
        let wait = policy.replication.map { [RedisCommand("WAIT", $0.replicas, RetentionPolicy.milliseconds($0.timeout))] } ?? []
        let (reply, waited) = try await retryingLostConnections(policy) {
            try await mapped(key) { try await client.evaluate(Self.appendScript, keys: [key], arguments: arguments, then: wait, logger: logger) }
        }
        guard let numbers = reply.array?.compactMap(\.int), numbers.count == 3 else {
            throw ChatMemoryError.unexpectedReply("append script returned \(reply.shape)")
        }
        if let replication = policy.replication {
            guard let acknowledged = try waited.first?.get().int else { throw ChatMemoryError.unexpectedReply("WAIT returned no count") }
            if acknowledged < replication.replicas {
                throw ChatMemoryError.replicationIncomplete(acknowledged: acknowledged, required: replication.replicas)
            }
        }
        return AppendResult(appended: numbers[0], duplicates: numbers[1], length: numbers[2])
    }

    /// How many times an append is sent again after its connection broke.
    static let appendAttempts = 4

    /// Runs an append again when its connection broke after sending (a primary that died or
    /// failed over): the script stores no message twice, so that is safe while the
    /// idempotency check is on (`idempotencyWindow` > 0). Other errors, timeouts included,
    /// reach the caller.
    private func retryingLostConnections<R>(_ policy: RetentionPolicy, _ body: () async throws -> R) async throws -> R {
        var attempt = 1
        while true {
            do {
                return try await body()
            } catch let error as RedisError where policy.idempotencyWindow > 0 && attempt < Self.appendAttempts
                && [.connectionClosed, .io, .connectionRefused].contains(error.code) {
                attempt += 1
            }
        }
    }

    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        let reply = try await mapped(key) { try await client.send("LRANGE", key, start, stop, logger: logger) }
        guard let items = reply.array else { throw ChatMemoryError.unexpectedReply("LRANGE returned \(reply.shape)") }
        return items.map { $0.bytes ?? [] }
    }

    func length(_ key: [UInt8], logger: Logger) async throws -> Int {
        let reply = try await mapped(key) { try await client.send("LLEN", key, logger: logger) }
        guard let length = reply.int else { throw ChatMemoryError.unexpectedReply("LLEN returned \(reply.shape)") }
        return length
    }

    /// KEYS[1]: the session list. Unlinks it only when it is a list: a key of another type is
    /// someone else's and is reported, not deleted. Returns 1 when a list was removed.
    static let deleteScript = RedisScript(runFunction + #"""
        local kind = run('TYPE', KEYS[1]).ok
        if kind == 'none' then return 0 end
        if kind ~= 'list' then return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value') end
        return run('UNLINK', KEYS[1])
        """#)

    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool {
        try await mapped(key) { try await client.evaluate(Self.deleteScript, keys: [key], logger: logger) }.int == 1
    }

    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? {
        let milliseconds = try await client.send("PTTL", key, logger: logger).int ?? -1
        return milliseconds >= 0 ? .milliseconds(milliseconds) : nil
    }

    /// One `SCAN` step over the lists whose key starts with `prefix`, on one primary at a time
    /// (every primary of a cluster in turn); the cursor is the client's ``RedisScanCursor`` as text.
    func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
        let pattern = Self.globEscaped(prefix) + [UInt8(ascii: "*")]
        var position: RedisScanCursor?
        if let cursor {
            guard let parsed = RedisScanCursor(cursor) else { throw ChatMemoryError.invalidConfiguration("not a session listing cursor: \(cursor)") }
            position = parsed
        }
        let (keys, next) = try await client.scan(from: position, matching: pattern, type: "list", count: 1000)
        return (keys, next?.description)
    }

    /// Runs a command on a session key, turning `WRONGTYPE` into ``ChatMemoryError/wrongKeyType(key:)``.
    func mapped<R>(_ key: [UInt8], _ body: () async throws -> R) async throws -> R {
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
}
