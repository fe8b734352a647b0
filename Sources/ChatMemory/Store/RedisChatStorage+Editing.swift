import ChatMemoryRedis
import Logging

extension RedisChatStorage: EditingStorage {
    /// KEYS as the append script's. ARGV[1]: the id prefix the newest entry must start with (''
    /// : the session must be empty), ARGV[2]: what to drop (`keep`, `all`, or `after`: the entries
    /// newer than the one that starts with ARGV[3], looked for among the newest ARGV[4]), then the
    /// append script's arguments. Returns {0, newest entry (none when empty)} when the newest entry
    /// is not the expected one, {-1} when the anchor is not found (nothing changed either way),
    /// else {1, dropped, appended, duplicates, length}.
    ///
    /// The check and the reads come first; the drop is the append's first write on the session
    /// (`LTRIM` from the first entry kept), after the commands it runs have been tried, so a
    /// command an ACL user may not run fails as `NOPERM` with the session unchanged. A drop makes
    /// the id index stale: it is rebuilt from the entries that stay, in the same step.
    static let rewriteScript = storeScript(appendFunction + #"""
        local key, expected, mode = KEYS[1], ARGV[1], ARGV[2]
        local newest = run('LINDEX', key, 0)
        local matches
        if expected == '' then matches = not newest
        else matches = newest and string.sub(newest, 1, #expected) == expected end
        if not matches then
          if newest then return {0, newest} end
          return {0}
        end
        local drop = 0
        if mode == 'all' then
          drop = run('LLEN', key)
        elseif mode == 'after' then
          local anchor = ARGV[3]
          local entries = run('LRANGE', key, 0, tonumber(ARGV[4]) - 1)
          drop = nil
          for i = 1, #entries do
            if string.sub(entries[i], 1, #anchor) == anchor then drop = i - 1 break end
          end
          if not drop then return {-1} end
        end
        local result = append(4, drop)
        return {1, drop, result[1], result[2], result[3]}
        """#)

    func rewriteNewest(_ key: [UInt8], expectedNewest: [UInt8]?, anchor: RewriteAnchor, entries: [ChatStorageEntry],
                       policy: RetentionPolicy, logger: Logger) async throws -> RewriteResult {
        var arguments: [any RedisArgument] = [expectedNewest ?? []]
        switch anchor {
        case .keepAll: arguments += ["keep", "", 0]
        case .dropAll: arguments += ["all", "", 0]
        case .after(let prefix, let depth): arguments += ["after", prefix, depth]
        }
        arguments += [
            policy.maxLength.map { String($0 - 1) } ?? "",
            policy.timeToLive.map { String(RetentionPolicy.milliseconds($0)) } ?? "",
            policy.idempotencyWindow,
        ]
        for entry in entries {
            arguments.append(entry.idPrefix)
            arguments.append(entry.bytes)
        }
        let index = Self.indexKey(of: key)
        let wait = policy.replication.map { [RedisCommand("WAIT", $0.replicas, RetentionPolicy.milliseconds($0.timeout))] } ?? []
        // Never sent again after a lost connection: a rewrite that ran must not run twice.
        try await serverCheck.ensure(client, key: key, logger: logger)
        let (reply, waited) = try await mapped(key, index: index) {
            try await client.evaluate(Self.rewriteScript, keys: [key, index], arguments: arguments, then: wait, logger: logger)
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
            if let replication = policy.replication {
                guard let acknowledged = try waited.first?.get().int else { throw ChatMemoryError.unexpectedReply("WAIT returned no count") }
                if acknowledged < replication.replicas {
                    throw ChatMemoryError.replicationIncomplete(acknowledged: acknowledged, required: replication.replicas)
                }
            }
            return .applied(dropped: numbers[1], AppendResult(appended: numbers[2], duplicates: numbers[3], length: numbers[4]))
        }
    }
}
