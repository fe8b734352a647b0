import ChatMemoryRedis
import Logging

extension RedisChatStorage: EditingStorage {
    /// KEYS as the append script's. ARGV[1], ARGV[2]: the first and last bytes the newest entry
    /// must have in the object form, ARGV[3], ARGV[4] in the compact form (``NewestEntry``;
    /// ARGV[1] '': the session must be empty), ARGV[5]: what to drop (`keep`, `all`, or `after`:
    /// the entries newer than the one whose id key is ARGV[6], looked for among the newest
    /// ARGV[7] in growing pages, so a near anchor reads few entries), then the append script's
    /// arguments. Returns {0, newest entry (none when empty)} when the newest
    /// entry is not the expected one, {-1} when the anchor is not found (nothing changed either
    /// way), else {1, dropped, appended, duplicates, length}.
    ///
    /// The check and the reads come first; the drop is the append's first write on the session
    /// (`LTRIM` from the first entry kept, tried as `LTRIM 0 -1` with the other commands), so a
    /// command an ACL user may not run fails as `NOPERM` with nothing changed. A drop makes the id
    /// index stale: it is rebuilt from the entries that stay, in the same step.
    static let rewriteScript = storeScript(appendFunction + #"""
        local key, mode = KEYS[1], ARGV[5]
        local newest = run('LINDEX', key, 0)
        local function has(entry, prefix, suffix)
          return #entry >= #prefix + #suffix and string.sub(entry, 1, #prefix) == prefix and string.sub(entry, -#suffix) == suffix
        end
        local matches
        if ARGV[1] == '' then matches = not newest
        else matches = newest and (has(newest, ARGV[1], ARGV[2]) or has(newest, ARGV[3], ARGV[4])) end
        if not matches then
          if newest then return {0, newest} end
          return {0}
        end
        local drop = 0
        if mode == 'all' then
          drop = run('LLEN', key)
        elseif mode == 'after' then
          local anchor, depth = ARGV[6], tonumber(ARGV[7])
          local from, size = 0, 8
          drop = nil
          while from < depth do
            local last = math.min(from + size, depth) - 1
            local entries = run('LRANGE', key, from, last)
            for i = 1, #entries do
              if idKey(entries[i]) == anchor then drop = from + i - 1 break end
            end
            if drop or #entries <= last - from then break end
            from, size = last + 1, size * 4
          end
          if not drop then return {-1} end
        end
        local result = append(7, drop)
        return {1, drop, result[1], result[2], result[3]}
        """#)

    func rewriteNewest(_ key: [UInt8], expectedNewest: NewestEntry?, anchor: RewriteAnchor, entries: [ChatStorageEntry],
                       policy: RetentionPolicy, logger: Logger) async throws -> RewriteResult {
        var arguments: [any RedisArgument] = [expectedNewest?.idPrefix ?? [], expectedNewest?.messageSuffix ?? [],
                                              expectedNewest?.compactPrefix ?? [], expectedNewest?.compactSuffix ?? []]
        switch anchor {
        case .keepAll: arguments += ["keep", "", 0]
        case .dropAll: arguments += ["all", "", 0]
        case .after(let prefix, let depth): arguments += ["after", prefix, depth]
        }
        arguments += Self.appendArguments(entries, policy: policy)
        let keys = [key, Self.indexKey(of: key)]
        // Never sent again after a lost connection: a rewrite that ran must not run twice.
        try await serverCheck.ensure(client, key: key, logger: logger)
        let (reply, waited) = try await mapped(key, index: keys[1]) {
            try await client.evaluate(Self.rewriteScript, keys: keys, arguments: arguments, then: Self.waitCommands(policy), logger: logger)
        }
        guard let parts = reply.array, let status = parts.first?.int else {
            throw ChatMemoryError.unexpectedReply("rewrite script returned \(reply.shape)")
        }
        switch status {
        case 0:
            return .newestChanged(newest: parts.count > 1 ? parts[1].bytes : nil)
        case -1:
            return .anchorNotFound
        default:
            let numbers = parts.compactMap(\.int)
            guard numbers.count == 5 else { throw ChatMemoryError.unexpectedReply("rewrite script returned \(reply.shape)") }
            try Self.checkReplication(waited, policy: policy)
            return .applied(dropped: numbers[1], AppendResult(appended: numbers[2], duplicates: numbers[3], length: numbers[4]))
        }
    }
}
