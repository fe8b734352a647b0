import ChatMemoryRedis
import Logging

/// An owner's list of conversations in Redis: two keys in the owner's hash slot, written only by
/// these scripts, never in a script with a session (on a cluster a session lives in another slot).
///
/// - `owner:{tag}<owner key>`, a sorted set: each session id, scored by when it was last written
///   (ms, the server's `TIME`; a score only ever grows);
/// - `owner-info:{tag}<owner key>`, a hash: `c:<id>` when the session was first written, `t:<id>`
///   its title.
///
/// The three-character tag is the slot of the owner key, so both keys share it. Each write gives
/// both the sessions' time to live, or a later expiry, never an earlier one: the list outlives
/// every session it names.
extension RedisChatStorage: ConversationIndexStorage {
    static func ownerIndexKey(of owner: [UInt8]) -> [UInt8] {
        Array("owner:{".utf8) + HashSlot.tag(forSlot: HashSlot.of(owner)) + Array("}".utf8) + owner
    }

    static func ownerInfoKey(of owner: [UInt8]) -> [UInt8] {
        Array("owner-info:{".utf8) + HashSlot.tag(forSlot: HashSlot.of(owner)) + Array("}".utf8) + owner
    }

    private static func ownerKeys(_ owner: [UInt8]) -> [any RedisArgument] {
        [ownerIndexKey(of: owner), ownerInfoKey(of: owner)]
    }

    private static func milliseconds(_ timeToLive: Duration?) -> String {
        timeToLive.map { String(RetentionPolicy.milliseconds($0)) } ?? ""
    }

    /// `keepFor(key, ttl)`: the key expires no sooner than `ttl` ms from now ('': never), and an
    /// expiry is only ever pushed back: the list outlives every session written with any setting.
    static let keepForFunction = #"""
        local function keepFor(key, ttl)
          local left = run('PTTL', key)
          if left == -2 then return end
          if ttl == '' then
            if left >= 0 then run('PERSIST', key) end
          elseif left >= 0 and left < tonumber(ttl) then
            run('PEXPIRE', key, ttl)
          end
        end

        """#

    /// KEYS: the owner's index and info. ARGV[1]: the session id, ARGV[2]: the time to live in ms
    /// ('': none). A session's score strictly grows with each mark (by 1 ms when the clock has
    /// not moved past it, as after a failover to a node whose clock is behind), so two workers'
    /// marks in any order leave the later, and a forget that read the old score never removes a
    /// session marked since. A new list gets the time to live; an existing one is only extended.
    static let touchScript = storeScript(keepForFunction + #"""
        if redis.replicate_commands then redis.replicate_commands() end
        local index, info, id, ttl = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
        local time = run('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local score = run('ZSCORE', index, id)
        if score then now = math.max(now, math.floor(tonumber(score)) + 1) end
        local fresh = run('EXISTS', index) == 0
        run('ZADD', index, now, id)
        run('HSETNX', info, 'c:' .. id, now)
        if fresh and ttl ~= '' then
          run('PEXPIRE', index, ttl)
          run('PEXPIRE', info, ttl)
        else
          keepFor(index, ttl)
          keepFor(info, ttl)
        end
        return now
        """#)

    func touchConversation(_ session: [UInt8], owner: [UInt8], timeToLive: Duration?, logger: Logger) async throws {
        _ = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.touchScript, keys: Self.ownerKeys(owner), arguments: [session, Self.milliseconds(timeToLive)], logger: logger)
        }
    }

    /// KEYS: the owner's index and info. ARGV[1]: the time to live in ms.
    static let extendScript = storeScript(keepForFunction + #"""
        keepFor(KEYS[1], ARGV[1])
        keepFor(KEYS[2], ARGV[1])
        return 1
        """#)

    func refreshConversationIndex(owner: [UInt8], to timeToLive: Duration, logger: Logger) async throws {
        _ = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.extendScript, keys: Self.ownerKeys(owner), arguments: [Self.milliseconds(timeToLive)], logger: logger)
        }
    }

    /// KEYS: the owner's index and info. ARGV[1]: the session id, ARGV[2]: the title ('' with
    /// ARGV[3] = '0': remove it). Only for a session the list holds: returns 0 otherwise, and
    /// writes nothing (no title outlives its conversation, none lands after an erasure).
    static let titleScript = storeScript(#"""
        local index, info, id, title, set = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]
        if not run('ZSCORE', index, id) then return 0 end
        if set == '1' then run('HSET', info, 't:' .. id, title) else run('HDEL', info, 't:' .. id) end
        return 1
        """#)

    func setConversationTitle(_ title: String?, session: [UInt8], owner: [UInt8], logger: Logger) async throws -> Bool {
        try await mapped(Self.ownerInfoKey(of: owner)) {
            try await client.evaluate(Self.titleScript, keys: Self.ownerKeys(owner),
                                      arguments: [session, title ?? "", title == nil ? "0" : "1"], logger: logger)
        }.int == 1
    }

    /// KEYS: the owner's index and info. ARGV[1]: the page size; with a cursor, ARGV[2] its
    /// score and ARGV[3] its session id. The page goes down from the cursor (exclusive) in the
    /// sorted set's reverse order: score descending, then id descending (bytes, as Redis orders
    /// equal scores). Returns {id, score, created, title}..., `false` for a missing created time
    /// or title.
    static let pageScript = storeScript(#"""
        local index, info, limit = KEYS[1], KEYS[2], tonumber(ARGV[1])
        -- Byte order, whatever the server's locale (Lua's `<` on strings follows strcoll).
        local function before(a, b)
          for i = 1, math.min(#a, #b) do
            local x, y = string.byte(a, i), string.byte(b, i)
            if x ~= y then return x < y end
          end
          return #a < #b
        end
        local ids, scores = {}, {}
        local top = '+inf'
        if ARGV[2] then
          -- The cursor's own time first: the ids below the cursor's, highest first.
          local ties = run('ZRANGEBYSCORE', index, ARGV[2], ARGV[2])
          for i = #ties, 1, -1 do
            if #ids == limit then break end
            if before(ties[i], ARGV[3]) then
              ids[#ids + 1] = ties[i]
              scores[#scores + 1] = ARGV[2]
            end
          end
          top = '(' .. ARGV[2]
        end
        if #ids < limit then
          local rows = run('ZREVRANGEBYSCORE', index, top, '-inf', 'WITHSCORES', 'LIMIT', 0, limit - #ids)
          for i = 1, #rows, 2 do
            ids[#ids + 1] = rows[i]
            scores[#scores + 1] = rows[i + 1]
          end
        end
        local out = {}
        for i = 1, #ids do
          local fields = run('HMGET', info, 'c:' .. ids[i], 't:' .. ids[i])
          out[#out + 1] = ids[i]
          out[#out + 1] = scores[i]
          out[#out + 1] = fields[1]
          out[#out + 1] = fields[2]
        end
        return out
        """#)

    func conversationPage(owner: [UInt8], after cursor: ConversationCursor?, limit: Int, logger: Logger) async throws
        -> (rows: [ConversationRow], next: ConversationCursor?) {
        var arguments: [any RedisArgument] = [limit]
        if let cursor { arguments += [String(cursor.activeAt), cursor.session] }
        let reply = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.pageScript, keys: Self.ownerKeys(owner), arguments: arguments, logger: logger)
        }
        guard let items = reply.array, items.count % 4 == 0 else {
            throw ChatMemoryError.unexpectedReply("the conversation page returned \(reply.shape)")
        }
        var rows: [ConversationRow] = []
        for start in stride(from: 0, to: items.count, by: 4) {
            guard let session = items[start].bytes, let activeAt = Self.score(items[start + 1]) else {
                throw ChatMemoryError.unexpectedReply("a conversation row was \(items[start].shape), \(items[start + 1].shape)")
            }
            let created = items[start + 2].bytes.flatMap { Int64(String(decoding: $0, as: UTF8.self)) } ?? activeAt
            let title = items[start + 3].bytes.map { String(decoding: $0, as: UTF8.self) }
            rows.append(ConversationRow(session: session, lastActive: activeAt, created: created, title: title))
        }
        return (rows, ConversationRow.cursor(after: rows, limit: limit))
    }

    /// KEYS: the owner's index and info. ARGV[1]: the session id, ARGV[2]: the score it had.
    static let forgetScript = storeScript(#"""
        local index, info, id = KEYS[1], KEYS[2], ARGV[1]
        local score = run('ZSCORE', index, id)
        if not score or math.floor(tonumber(score)) ~= tonumber(ARGV[2]) then return 0 end
        run('ZREM', index, id)
        run('HDEL', info, 'c:' .. id, 't:' .. id)
        return 1
        """#)

    func forgetConversation(_ session: [UInt8], owner: [UInt8], activeAt: Int64, logger: Logger) async throws -> Bool {
        try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.forgetScript, keys: Self.ownerKeys(owner), arguments: [session, String(activeAt)], logger: logger)
        }.int == 1
    }

    /// A score as Redis returns it (text), in whole milliseconds.
    static func score(_ value: RedisValue) -> Int64? {
        guard let score = value.bytes.flatMap({ Double(String(decoding: $0, as: UTF8.self)) }), score.isFinite,
              abs(score) < 9.0e15 else { return nil }
        return Int64(score.rounded(.down))
    }

    /// KEYS: the owner's index and info. Removes the whole list, only once it is empty; 0 otherwise.
    static let dropIndexScript = storeScript(#"""
        if run('ZCARD', KEYS[1]) > 0 then return 0 end
        run('UNLINK', KEYS[1], KEYS[2])
        return 1
        """#)

    func deleteConversationIndex(owner: [UInt8], logger: Logger) async throws -> Bool {
        try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.dropIndexScript, keys: Self.ownerKeys(owner), logger: logger)
        }.int == 1
    }
}

extension ConversationRow {
    /// The cursor after a page of `rows` read with `limit`: `nil` when the page was not full
    /// (nothing is left below it).
    static func cursor(after rows: [ConversationRow], limit: Int) -> ConversationCursor? {
        guard rows.count == limit, let last = rows.last else { return nil }
        return ConversationCursor(activeAt: last.lastActive, session: last.session)
    }

    /// Whether this row comes after (below) `cursor` in a listing: an earlier time, or the same
    /// time and a smaller id (bytes).
    func isBelow(_ cursor: ConversationCursor) -> Bool {
        lastActive < cursor.activeAt || (lastActive == cursor.activeAt && session.lexicographicallyPrecedes(cursor.session))
    }
}
