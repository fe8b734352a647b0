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
/// The three-character tag is the slot of the owner key, so both keys share it. Both get the
/// sessions' time to live at each write, so the list outlives none of its sessions for long.
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

    /// KEYS: the owner's index and info. ARGV[1]: the session id, ARGV[2]: the time to live in ms
    /// ('': leave it). The score only grows, so two workers' marks in any order leave the later.
    static let touchScript = storeScript(#"""
        local index, info, id, ttl = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
        local time = run('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local score = run('ZSCORE', index, id)
        if not score or tonumber(score) < now then run('ZADD', index, now, id) end
        run('HSETNX', info, 'c:' .. id, now)
        if ttl ~= '' then
          run('PEXPIRE', index, ttl)
          run('PEXPIRE', info, ttl)
        end
        return now
        """#)

    func touchConversation(_ session: [UInt8], owner: [UInt8], timeToLive: Duration?, logger: Logger) async throws {
        _ = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.touchScript, keys: Self.ownerKeys(owner), arguments: [session, Self.milliseconds(timeToLive)], logger: logger)
        }
    }

    func refreshConversationIndex(owner: [UInt8], to timeToLive: Duration, logger: Logger) async throws {
        let milliseconds = RetentionPolicy.milliseconds(timeToLive)
        let replies = try await client.pipeline([RedisCommand("PEXPIRE", Self.ownerIndexKey(of: owner), milliseconds),
                                                 RedisCommand("PEXPIRE", Self.ownerInfoKey(of: owner), milliseconds)], logger: logger)
        for reply in replies { _ = try reply.get() }
    }

    /// KEYS: the owner's index and info. ARGV[1]: the session id, ARGV[2]: the title ('' with
    /// ARGV[3] = '0': remove it), ARGV[4]: the time to live in ms ('': leave it).
    static let titleScript = storeScript(#"""
        local index, info, id, title, set, ttl = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
        if set == '1' then run('HSET', info, 't:' .. id, title) else run('HDEL', info, 't:' .. id) end
        if ttl ~= '' and run('EXISTS', info) == 1 then run('PEXPIRE', info, ttl) end
        return 1
        """#)

    func setConversationTitle(_ title: String?, session: [UInt8], owner: [UInt8], timeToLive: Duration?, logger: Logger) async throws {
        _ = try await mapped(Self.ownerInfoKey(of: owner)) {
            try await client.evaluate(Self.titleScript, keys: Self.ownerKeys(owner),
                                      arguments: [session, title ?? "", title == nil ? "0" : "1", Self.milliseconds(timeToLive)], logger: logger)
        }
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
            guard let session = items[start].bytes, let score = items[start + 1].bytes.flatMap({ Double(String(decoding: $0, as: UTF8.self)) }),
                  let activeAt = Int64(exactly: score.rounded(.down)) else {
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
        if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
        run('ZREM', index, id)
        run('HDEL', info, 'c:' .. id, 't:' .. id)
        return 1
        """#)

    func forgetConversation(_ session: [UInt8], owner: [UInt8], activeAt: Int64, logger: Logger) async throws -> Bool {
        try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.forgetScript, keys: Self.ownerKeys(owner), arguments: [session, String(activeAt)], logger: logger)
        }.int == 1
    }

    func someConversations(owner: [UInt8], limit: Int, logger: Logger) async throws -> [[UInt8]] {
        let reply = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.send("ZRANGE", Self.ownerIndexKey(of: owner), 0, limit - 1, logger: logger)
        }
        guard let items = reply.array else { throw ChatMemoryError.unexpectedReply("ZRANGE returned \(reply.shape)") }
        return items.compactMap(\.bytes)
    }

    /// KEYS: the owner's index and info. ARGV: session ids.
    static let removeScript = storeScript(#"""
        for i = 1, #ARGV do
          run('ZREM', KEYS[1], ARGV[i])
          run('HDEL', KEYS[2], 'c:' .. ARGV[i], 't:' .. ARGV[i])
        end
        return #ARGV
        """#)

    func removeConversations(_ sessions: [[UInt8]], owner: [UInt8], logger: Logger) async throws {
        _ = try await mapped(Self.ownerIndexKey(of: owner)) {
            try await client.evaluate(Self.removeScript, keys: Self.ownerKeys(owner), arguments: sessions, logger: logger)
        }
    }

    func deleteConversationIndex(owner: [UInt8], logger: Logger) async throws {
        let replies = try await client.pipeline([RedisCommand("UNLINK", Self.ownerIndexKey(of: owner)),
                                                 RedisCommand("UNLINK", Self.ownerInfoKey(of: owner))], logger: logger)
        for reply in replies { _ = try reply.get() }
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
