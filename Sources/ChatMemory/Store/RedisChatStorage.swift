import ChatMemoryRedis
import Logging

/// Chat lists in Redis. An append is one Lua script on the session's list and its id index, two
/// keys in one hash slot (so it is atomic and Redis Cluster safe); reads are plain `LRANGE`s.
struct RedisChatStorage: ChatStorage, EntryViewStorage {
    let client: RedisClient
    /// Whether sessions keep transcript archives (``CompactionSettings/archive``): only then do
    /// the scripts name the archive key, so a user without `~archive:{???}…` can run without one.
    var keepsArchives = true
    /// Whether the server has what ``appendScript`` needs, asked before the first append.
    let serverCheck = ServerCheck()

    /// `run(command, ...)`: `redis.call`, except that a command the ACL user may not run fails
    /// as `NOPERM` naming it (inside a script Redis says only `ERR ... can't run this command`,
    /// Valkey `ERR ACL failure in script: ... no permissions to run the '...' command`).
    static let runFunction = #"""
        local function check(reply, command)
          if type(reply) == 'table' and reply.err then
            if string.find(reply.err, "can't run this command", 1, true)
                or string.find(reply.err, "no permissions to run the '", 1, true) then
              error({err = "NOPERM this user has no permissions to run the '" .. string.lower(command) .. "' command"})
            end
            -- Redis 6.2 puts where the script failed before an error's code: keep the code first.
            error({err = (string.gsub(reply.err, '^@user_script: ?%d+: %-?', ''))})
          end
          return reply
        end
        local function run(...)
          return check(redis.pcall(...), (...))
        end

        """#

    /// A script of this storage: `body` (which may use `run`) runs under `pcall`, so an error
    /// raised anywhere in it, `{err = ...}` or a command's, is the script's error reply with its
    /// own code (`WRONGTYPE`, `NOPERM`) on every server. Redis before 7.0 cannot raise an error
    /// table through its own error handler (the reply would be `ERR Error running script ...
    /// attempt to concatenate`); Valkey hands `pcall` the error's text instead of the table.
    static func storeScript(_ body: String) -> RedisScript {
        RedisScript(storeScriptSource(body))
    }

    /// The source of ``storeScript(_:)``.
    static func storeScriptSource(_ body: String) -> String {
        runFunction + "local function body()\n" + body + #"""

            end
            local ok, result = pcall(body)
            if ok or (type(result) == 'table' and result.err) then return result end
            result = tostring(result)
            if string.find(result, '^%u[%u_]* ') then return redis.error_reply(result) end
            return redis.error_reply('ERR ' .. result)
            """#
    }

    /// Every command this storage, its scripts and the client under it send, as ACL names: on a
    /// cluster the client reads the slot map (`CLUSTER SLOTS`) and follows `ASK` (`ASKING`); with
    /// Sentinel it checks the primary's `ROLE`; with ``ChatMemoryConfiguration/replication`` an
    /// append ends with `WAIT`.
    static let commandsUsed = ["evalsha", "script|load", "lrange", "llen", "ltrim", "lpush", "pexpire",
                               "lpos", "rpush", "lindex", "pttl", "scan", "type", "unlink", "cluster|slots", "asking", "role",
                               "wait", "lset", "set", "get", "time", "zscore", "zadd", "zrem", "zrangebyscore", "zrevrangebyscore",
                               "hsetnx", "hset", "hdel", "hmget", "exists", "persist", "zcard"]

    /// The key of a session's id index (see ``appendScript``): `ids:{tag}` and the session's key,
    /// where the three-character tag puts it in the session's Redis Cluster slot. It never starts
    /// with the key prefix: ``RedisChatMemory`` refuses a prefix compatible with `ids:{`.
    static func indexKey(of sessionKey: [UInt8]) -> [UInt8] {
        Array("ids:{".utf8) + HashSlot.tag(forSlot: HashSlot.of(sessionKey)) + Array("}".utf8) + sessionKey
    }

    /// The key of a session's transcript archive (``TranscriptArchive``): `archive:{tag}` and the
    /// session's key, in the session's slot like ``indexKey(of:)``. ``RedisChatMemory`` refuses a
    /// key prefix compatible with `archive:{`.
    static func archiveKey(of sessionKey: [UInt8]) -> [UInt8] {
        Array("archive:{".utf8) + HashSlot.tag(forSlot: HashSlot.of(sessionKey)) + Array("}".utf8) + sessionKey
    }

    /// `probe(command, ...)`: where a user's permissions may differ by key (Redis 7.0 on,
    /// Valkey), fails as `NOPERM` when the user may not run the command, without running it.
    /// `try(command, ...)`, for a command whose arguments make it change nothing yet: the same
    /// check, or, on a server without `redis.acl_check_cmd` (Redis 6.2), running it.
    static let probeFunction = #"""
        local function probe(...)
          if redis.acl_check_cmd and not redis.acl_check_cmd(...) then
            error({err = "NOPERM this user has no permissions to run the '" .. string.lower((...)) .. "' command"})
          end
        end
        local function try(...)
          if redis.acl_check_cmd then probe(...) else run(...) end
        end

        """#

    /// The append script's body as a Lua function `append(base, drop)`: its arguments start after
    /// `ARGV[base]`, and the newest `drop` entries of the session (at most its length) go, as the
    /// first write, before the new ones are pushed (see ``rewriteScript``).
    static let appendFunction = probeFunction + idKeyFunction + appendBodyFunction

    /// `idKey(entry)`: the id key `{"id":"…",` of a stored entry in either form, or `nil`
    /// (``ChatStorageEntry/idPrefix(of:)`` in Lua).
    static let idKeyFunction = #"""
        local function idKey(entry)
          local compact = string.sub(entry, 1, 2) == '["'
          if not compact and string.sub(entry, 1, 7) ~= '{"id":"' then return nil end
          local from = compact and 3 or 8
          while true do
            local at = string.find(entry, '["\\]', from)
            if not at then return nil end
            if string.byte(entry, at) == 92 then from = at + 2
            elseif not compact then return string.sub(entry, 1, at + 1)
            elseif string.byte(entry, at + 1) == 44 then return '{"id":' .. string.sub(entry, 2, at + 1)
            else return nil end
          end
        end

        """#

    /// ``appendFunction`` without the `probe` and `try` it uses.
    static let appendBodyFunction = #"""
        local function append(base, drop)
          local key, index, stop, ttl = KEYS[1], KEYS[2], ARGV[base + 1], ARGV[base + 2]
          local window = math.max(tonumber(ARGV[base + 3]) - 1, 0)
          local count = (#ARGV - base - 3) / 2
          -- length: what stays of the session once the newest `drop` entries are gone.
          local length = run('LLEN', key) - drop
          -- known: the ids the index holds; older: the prefixes of the entries below them.
          -- need: how many of the newest ids count (the batch and the window).
          local known, older, stale, need = 0, {}, false, 0
          if window > 0 then
            known = redis.pcall('LLEN', index)
            if type(known) == 'table' then
              if string.find(known.err, 'WRONGTYPE', 1, true) == 1 then
                error({err = 'WRONGTYPE the id index holds the wrong kind of value'})
              end
              known = run('LLEN', index)
            end
            -- An index longer than the session, or naming entries to drop, is rebuilt.
            if known > length or (drop > 0 and known > 0) then stale, known = true, 0 end
            need = math.min(count + window, length)
            if known < need then
              local entries = run('LRANGE', key, drop + known, drop + need - 1)
              for i = 1, #entries do
                local id = idKey(entries[i])
                if id then older[#older + 1] = id end
              end
            end
          end
          local fresh, added = {}, {}
          if count == 1 then
            local prefix = ARGV[base + 4]
            -- The index may hold more than the window (see appendOne): only `need` ids count.
            local held = known > 0 and run('LPOS', index, prefix, 'MAXLEN', math.min(known, need))
            for i = 1, #older do held = held or older[i] == prefix end
            if not held then fresh[1], added[1] = ARGV[base + 5], prefix end
          else
            local held = {}
            if known > 0 then
              local ids = run('LRANGE', index, 0, math.min(known, need) - 1)
              for i = 1, #ids do held[ids[i]] = true end
            end
            for i = 1, #older do held[older[i]] = true end
            local stored = 0
            for i = count, 1, -1 do
              if held[ARGV[base + 2 + 2 * i]] then stored = i break end
            end
            for i = stored + 1, count do
              local prefix = ARGV[base + 2 + 2 * i]
              if not held[prefix] then
                held[prefix] = true
                fresh[#fresh + 1], added[#added + 1] = ARGV[base + 3 + 2 * i], prefix
              end
            end
          end
          -- Nothing to push, drop or repair: the attempt that stored the batch wrote it all (the
          -- time to live included), so a retry writes nothing.
          if #fresh == 0 and drop == 0 and not stale and #older == 0 then return {0, count, length} end
          local left = -1
          if window > 0 and ttl == '' then left = run('PTTL', key) end
          -- Writes before the first LPUSH: repairs of the index, a drop, or (without
          -- acl_check_cmd) the no-op tries.
          local early = not redis.acl_check_cmd or drop > 0 or stale or #older > 0
          if #fresh > 0 and early then
            -- A full server (maxmemory) refuses a script's writes only if its first write command
            -- is one that adds memory: this LSET, one past the last entry (or on no list), fails
            -- and writes nothing. (Valkey cuts a huge index to 32 bits: only an exact one is safe.)
            local gate = redis.pcall('LSET', key, length + drop, '')
            if not (gate.err and (string.find(gate.err, 'no such key', 1, true) or string.find(gate.err, 'out of range', 1, true))) then
              check(gate, 'LSET')
            end
          end
          if stop ~= '' or drop > 0 then try('LTRIM', key, '0', '-1') end
          if ttl ~= '' then try('PEXPIRE', key, ttl) end
          if window == 0 and drop > 0 then
            -- Not kept up to date without a window, but another writer's may read it: it must
            -- not name a dropped message.
            run('UNLINK', index)
          end
          if window > 0 then
            if stale then run('UNLINK', index) end
            for from = 1, #older, 1000 do
              run('RPUSH', index, unpack(older, from, math.min(from + 999, #older)))
            end
            probe('lpush', index, 'x')
            try('LTRIM', index, '0', '-1')
            if ttl ~= '' then try('PEXPIRE', index, ttl)
            elseif left > 0 then try('PEXPIRE', index, tostring(left)) end
          end
          if drop > 0 then run('LTRIM', key, drop, -1) end
          for from = 1, #fresh, 1000 do
            run('LPUSH', key, unpack(fresh, from, math.min(from + 999, #fresh)))
          end
          length = length + #fresh
          if stop ~= '' then
            run('LTRIM', key, 0, stop)
            length = math.min(length, tonumber(stop) + 1)
          end
          if ttl ~= '' and length > 0 then run('PEXPIRE', key, ttl) end
          if window > 0 then
            for from = 1, #added, 1000 do
              run('LPUSH', index, unpack(added, from, math.min(from + 999, #added)))
            end
            local cap = window
            if stop ~= '' then cap = math.min(cap, tonumber(stop)) end
            run('LTRIM', index, 0, cap)
            if ttl ~= '' then run('PEXPIRE', index, ttl)
            elseif left > 0 then run('PEXPIRE', index, left) end
          end
          return {#fresh, count - #fresh, length}
        end

        """#

    /// `appendOne()`: the common append, one message with the id check on, run before
    /// everything else and outside `storeScript`'s `pcall` (only on servers with
    /// `redis.acl_check_cmd`, Redis 7.0 on and Valkey). It decides by reads alone, so a retry
    /// writes nothing; `nil` (after reads only, any error included) leaves the append to
    /// `append(0, 0)`, which names errors. It needs an id index that covers the window and is
    /// not stale, and, without a time to live, a session without one. Every write after the
    /// first, the session's `LPUSH`, is checked with `redis.acl_check_cmd` before it, so only
    /// that one can be refused (by the ACL, or a full server), with nothing written; a refusal
    /// is returned as an error table. It writes that `LPUSH`, the session's `PEXPIRE`, its
    /// `LTRIM` only when the cap cuts, and the index's `LPUSH`; the index is cut to its newest
    /// `window + 1` (or the cap) only once it holds twice that or as many as the session, and
    /// gets the session's time to live plus a quarter when it is created or cut. Returns the
    /// session's length, negated for a duplicate (a table costs the server more to send).
    /// Its commands get strings, the client's where it can (`LPOS`'s `MAXLEN` is ARGV[3]): Redis
    /// before 7.2 formats a Lua number argument with `snprintf("%.17g")`, which took 5–6% of this
    /// function's server time for that one `MAXLEN`.
    static let appendOneFunction = #"""
        local function appendOne()
          local redis = redis
          if #ARGV ~= 5 or ARGV[3] == '0' or not redis.acl_check_cmd then return nil end
          local key, index, stop, ttl, checked = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]
          local length, known = redis.pcall('LLEN', key), redis.pcall('LLEN', index)
          if type(length) ~= 'number' or type(known) ~= 'number' then return nil end
          local keep, cap = tonumber(checked), stop ~= '' and tonumber(stop) + 1
          if known > length or (known < keep and known < length) then return nil end
          local prefix, entry = ARGV[4], ARGV[5]
          -- The index may hold more than the window: only its newest `keep` ids count.
          if cap and cap < keep then keep, checked = cap, cap end
          if known > 0 then
            local at = redis.pcall('LPOS', index, prefix, 'MAXLEN', checked)
            if type(at) == 'number' then return -length end
            if at then return nil end
          end
          if ttl == '' then
            local left = redis.pcall('PTTL', key)
            if type(left) ~= 'number' or left > 0 then return nil end
          end
          local total = length + 1
          local cutSession = cap and total > cap
          if cutSession then total = cap end
          local cutIndex = known >= 2 * keep or known >= total
          local indexTTL = (known == 0 or cutIndex) and ttl ~= '' and string.format('%.0f', tonumber(ttl) + math.floor(tonumber(ttl) / 4))
          local allowed, refused = redis.acl_check_cmd, nil
          if ttl ~= '' and not allowed('pexpire', key, ttl) then refused = 'pexpire'
          elseif cutSession and not allowed('ltrim', key, '0', stop) then refused = 'ltrim'
          elseif not allowed('lpush', index, prefix) then refused = 'lpush'
          elseif cutIndex and not allowed('ltrim', index, '0', '-1') then refused = 'ltrim'
          elseif indexTTL and not allowed('pexpire', index, indexTTL) then refused = 'pexpire' end
          if refused then return {err = "NOPERM this user has no permissions to run the '" .. refused .. "' command"} end
          -- The first write: refused (by the ACL, or a full server), it wrote nothing.
          local pushed = redis.pcall('LPUSH', key, entry)
          if type(pushed) == 'table' then
            if string.find(pushed.err, "can't run this command", 1, true) or string.find(pushed.err, 'no permissions', 1, true) then
              return {err = "NOPERM this user has no permissions to run the 'lpush' command"}
            end
            return pushed
          end
          if cutSession then redis.call('LTRIM', key, '0', stop) end
          if ttl ~= '' then redis.call('PEXPIRE', key, ttl) end
          redis.call('LPUSH', index, prefix)
          if cutIndex then redis.call('LTRIM', index, '0', keep - 1) end
          if indexTTL then redis.call('PEXPIRE', index, indexTTL) end
          return total
        end

        """#

    /// KEYS[1]: the session list, KEYS[2]: its id index (``indexKey(of:)``). ARGV[1]: the last
    /// index `LTRIM` keeps ('' : no cap), ARGV[2]: the time to live in ms ('' : none), ARGV[3]:
    /// the idempotency window plus one, 0 with the check off (how many of the newest ids one
    /// message is checked against), then (id prefix, entry) pairs, oldest first. Returns
    /// {appended, duplicates, length}, or ``appendOneFunction``'s number.
    ///
    /// The id index is a list that only this script writes, in the same atomic step as the
    /// session: the id prefixes (`{"id":"…",`) of the newest messages it pushed, newest first:
    /// at least `window + 1` (or the cap) once it has pushed that many, at most twice that and
    /// never more than the session holds (``appendOneFunction`` cuts it only then); only the
    /// newest `batch + window` of its ids count. The ids held are the index's, and the prefixes
    /// of the session's entries below what the index covers, down to its newest `batch + window`: read
    /// only for a batch, a session without an index (written before it existed, or by other
    /// tools) or one indexed with a smaller window. An index longer than its session is stale
    /// (the session was deleted, trimmed or rewritten by hand) and is rebuilt from the session.
    /// The newest message of the batch whose id is held, and every older one of the batch,
    /// count as stored; the rest is pushed, skipping repeats within the batch. A batch whose
    /// messages are all held, with no index to repair, writes nothing (a retry). One message
    /// costs one `LPOS` on the index, whatever the size of the entries; a batch is linear in
    /// its size and the window. With window 0 the index is neither read nor written.
    ///
    /// Every argument was validated by the caller, and every command is tried before the
    /// session's first write, on every server: the session's `LTRIM` and `PEXPIRE`, the index's
    /// `LPUSH`, `LTRIM` and `PEXPIRE` are checked with `redis.acl_check_cmd` (Redis 7.0 on,
    /// Valkey) or, without it (Redis 6.2, where permissions do not differ by key), run in forms
    /// that change nothing yet (`LTRIM 0 -1`, the final time to live; the index's `LPUSH` follows
    /// the session's, the same command). The index's repairs (a stale index unlinked, the ids of
    /// entries already stored added) run before the session's first write. So nothing fails
    /// after it: a command an ACL user may not run is reported as `NOPERM` naming it, with no
    /// message written. A server at its `maxmemory` checks memory at a script's first write
    /// command only, and only if that command adds memory: when any write comes before the
    /// first `LPUSH`, an `LSET` one past the last entry (which always fails) comes first, so a
    /// full server refuses the append with `OOM`, nothing written. The index never names a
    /// message the session lacks: the ids it gets before the session's write are of entries
    /// already there, those of new messages after it. The index gets the session's time to live
    /// (``appendOneFunction``'s: that plus a quarter, when it creates or cuts the index), so it
    /// outlives its session by at most a quarter of that; one that expired first (fewer than
    /// `window + 1` appends in that quarter) is rebuilt from the session by the next append.
    ///
    /// A single message with the check on usually takes ``appendOneFunction``'s way: `LLEN`s
    /// and `LPOS`, then `LPUSH`, `PEXPIRE` and the index's `LPUSH`; a retry stops after the
    /// reads.
    static let appendScript = RedisScript(appendOneFunction + """
        local one = appendOne()
        if one then return one end

        """ + storeScriptSource(appendFunction + "return append(0, 0)"))

    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        let arguments = Self.appendArguments(entries, policy: policy)
        let keys = [key, Self.indexKey(of: key)]
        let (reply, waited) = try await retryingLostConnections(policy) {
            // Read-only, and before anything is written: retried like an append never sent.
            try await serverCheck.ensure(client, key: key, logger: logger)
            return try await mapped(key, index: keys[1]) {
                try await client.evaluate(Self.appendScript, keys: keys, arguments: arguments, then: Self.waitCommands(policy), logger: logger)
            }
        }
        guard let result = Self.appendResult(reply) else {
            throw ChatMemoryError.unexpectedReply("append script returned \(reply.shape)")
        }
        try Self.checkReplication(waited, policy: policy)
        return result
    }

    /// The append script's reply: {appended, duplicates, length}, or ``appendOneFunction``'s
    /// length of one message, negated when it was a duplicate.
    static func appendResult(_ reply: RedisValue) -> AppendResult? {
        if case .integer(let length) = reply, length != 0, let magnitude = Int(exactly: length.magnitude) {
            return length > 0 ? AppendResult(appended: 1, duplicates: 0, length: magnitude) : AppendResult(appended: 0, duplicates: 1, length: magnitude)
        }
        guard let numbers = reply.array?.compactMap(\.int), numbers.count == 3 else { return nil }
        return AppendResult(appended: numbers[0], duplicates: numbers[1], length: numbers[2])
    }

    /// The append script's arguments (see ``appendScript``): cap, time to live, window plus one
    /// (0 without the check), then the entries' (id prefix, entry) pairs.
    static func appendArguments(_ entries: [ChatStorageEntry], policy: RetentionPolicy) -> [any RedisArgument] {
        var arguments: [any RedisArgument] = [
            policy.maxLength.map { String($0 - 1) } ?? "",
            policy.timeToLive.map { String(RetentionPolicy.milliseconds($0)) } ?? "",
            policy.idempotencyWindow == 0 ? 0 : policy.idempotencyWindow + 1,
        ]
        arguments.reserveCapacity(3 + 2 * entries.count)
        for entry in entries {
            arguments.append(entry.idPrefix)
            arguments.append(entry.bytes)
        }
        return arguments
    }

    /// `WAIT` after a write, when ``ChatMemoryConfiguration/replication`` asks for replicas.
    static func waitCommands(_ policy: RetentionPolicy) -> [RedisCommand] {
        policy.replication.map { [RedisCommand("WAIT", $0.replicas, RetentionPolicy.milliseconds($0.timeout))] } ?? []
    }

    /// Throws when fewer replicas than required confirmed a write (`waited`: the `WAIT` reply).
    static func checkReplication(_ waited: [Result<RedisValue, RedisError>], policy: RetentionPolicy) throws {
        guard let replication = policy.replication else { return }
        guard let acknowledged = try waited.first?.get().int else { throw ChatMemoryError.unexpectedReply("WAIT returned no count") }
        if acknowledged < replication.replicas {
            throw ChatMemoryError.replicationIncomplete(acknowledged: acknowledged, required: replication.replicas)
        }
    }

    /// When an append is sent again after its connection broke: 3 times, after the client's
    /// usual backoff.
    static let lostConnectionRetries = RetryPolicy(maxRetries: 3)

    /// Runs an append again when its connection broke (a primary that died or failed over):
    /// when it was not sent, or, after sending, while the idempotency check is on
    /// (`idempotencyWindow` > 0), since the script then stores no message twice. Other errors,
    /// timeouts included, reach the caller.
    private func retryingLostConnections<R>(_ policy: RetentionPolicy, _ body: () async throws -> R) async throws -> R {
        var retries = 0
        while true {
            do {
                return try await body()
            } catch let error as RedisError where Self.lostConnectionRetries.allowsRetry(after: error, safeToRepeat: policy.idempotencyWindow > 0) {
                retries += 1
                guard try await Self.lostConnectionRetries.pause(beforeRetry: retries, deadline: nil) else { throw error }
            }
        }
    }

    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        try await entries(key, start: start, stop: stop, logger: logger).map(\.array)
    }

    /// `LRANGE`'s strings as they came: views of the reply's one buffer.
    func entries(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [RedisBytes] {
        let reply = try await mapped(key) { try await client.send("LRANGE", key, start, stop, logger: logger) }
        guard let items = reply.array else { throw ChatMemoryError.unexpectedReply("LRANGE returned \(reply.shape)") }
        return items.map(Self.entry)
    }

    /// An entry of a list as `LRANGE` returned it (only bulk strings, from a list).
    static func entry(_ item: RedisValue) -> RedisBytes {
        if case .bulkString(let bytes) = item { return bytes }
        return RedisBytes(item.bytes ?? [])
    }

    func length(_ key: [UInt8], logger: Logger) async throws -> Int {
        let reply = try await mapped(key) { try await client.send("LLEN", key, logger: logger) }
        guard let length = reply.int else { throw ChatMemoryError.unexpectedReply("LLEN returned \(reply.shape)") }
        return length
    }

    /// KEYS[1]: the session list, KEYS[2]: its id index, KEYS[3] (when sessions keep archives):
    /// its transcript archive. Unlinks the list only when it is a list (a key of another type is
    /// someone else's and is reported, not deleted), and the index and the archive with it.
    /// Returns 1 when a list was removed (the archive alone does not count).
    static let deleteScript = storeScript(#"""
        local kind = run('TYPE', KEYS[1]).ok
        if kind ~= 'none' and kind ~= 'list' then return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value') end
        if run('TYPE', KEYS[2]).ok == 'list' then run('UNLINK', KEYS[2]) end
        if KEYS[3] and run('TYPE', KEYS[3]).ok == 'list' then run('UNLINK', KEYS[3]) end
        if kind == 'none' then return 0 end
        return run('UNLINK', KEYS[1])
        """#)

    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool {
        try await mapped(key) { try await client.evaluate(Self.deleteScript, keys: [key, Self.indexKey(of: key)] + (keepsArchives ? [Self.archiveKey(of: key)] : []),
                                                 logger: logger) }.int == 1
    }

    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? {
        let milliseconds = try await client.send("PTTL", key, logger: logger).int ?? -1
        return milliseconds >= 0 ? .milliseconds(milliseconds) : nil
    }

    /// One `SCAN` step over the lists whose key starts with `prefix`, on one primary at a time
    /// (every primary of a cluster in turn); the cursor is the client's
    /// ``RedisScanCursor`` as text.
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

    /// Runs a command on a session key, turning `WRONGTYPE` into ``ChatMemoryError/wrongKeyType(key:)``
    /// naming the key (the session's `index` or `archive` when a script says that one is wrong).
    func mapped<R>(_ key: [UInt8], index: [UInt8]? = nil, archive: [UInt8]? = nil, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as RedisError where error.code == .server(.wrongType) {
            let wrong = index.flatMap { error.message.contains("the id index") ? $0 : nil }
                ?? archive.flatMap { error.message.contains("the transcript archive") ? $0 : nil } ?? key
            throw ChatMemoryError.wrongKeyType(key: String(decoding: wrong, as: UTF8.self))
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
