import ChatMemoryRedis
import Logging

extension RedisChatStorage: TranscriptStorage {
    /// KEYS[1]: the session list, KEYS[2] (when sessions keep archives): its transcript archive.
    /// ARGV[1]: `from` or `before`,
    /// ARGV[2]: the position ('' with `before`: the end), ARGV[3]: the page's size. Returns
    /// {start, end, total, archived entries (oldest first), session entries (newest first),
    /// summary entry or nil}: ``TranscriptPlan``'s arithmetic, read in one step.
    ///
    /// The session's oldest entry is its summary when it starts with an id followed by
    /// `"kind":"summary"` (what compaction writes; ``StoredEntry/isSummaryEntry(_:)``).
    static let transcriptScript = storeScript(#"""
        local key, archive, mode, at, limit = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3])
        local kind = 'none'
        if archive then kind = run('TYPE', archive).ok end
        if kind ~= 'none' and kind ~= 'list' then
          error({err = 'WRONGTYPE the transcript archive holds the wrong kind of value'})
        end
        local archived = 0
        if kind == 'list' then archived = run('LLEN', archive) end
        local length = run('LLEN', key)
        local oldest, summary = false, 0
        if length > 0 then
          oldest = run('LINDEX', key, -1)
          if string.sub(oldest, 1, 7) == '{"id":"' then
            local from = 8
            while true do
              local quote = string.find(oldest, '["\\]', from)
              if not quote then break end
              if string.byte(oldest, quote) == 92 then from = quote + 2
              else
                if string.sub(oldest, quote + 1, quote + 17) == ',"kind":"summary"' then summary = 1 end
                break
              end
            end
          end
        end
        local total = archived + length - summary
        local first, last
        if mode == 'from' then
          first = math.min(tonumber(at), total)
          last = first + math.min(limit, total - first)
        else
          last = total
          if at ~= '' then last = math.min(tonumber(at), total) end
          first = last - math.min(limit, last)
        end
        local old, new = {}, {}
        if first < archived then old = run('LRANGE', archive, first, math.min(last, archived) - 1) end
        if last > archived then
          local from, to = math.max(first, archived) - archived + summary, last - archived + summary
          new = run('LRANGE', key, -to, -(from + 1))
        end
        local shown = false
        if summary == 1 and first <= archived and (archived < last or last == total) then shown = oldest end
        return {first, last, total, old, new, shown}
        """#)

    /// `LLEN` of the archive; a key of another type there is ``ChatMemoryError/wrongKeyType(key:)``.
    func archiveLength(_ key: [UInt8], logger: Logger) async throws -> Int {
        let archive = Self.archiveKey(of: key)
        let reply = try await mapped(archive) { try await client.send("LLEN", archive, logger: logger) }
        guard let length = reply.int else { throw ChatMemoryError.unexpectedReply("LLEN returned \(reply.shape)") }
        return length
    }

    func transcriptSlice(_ key: [UInt8], request: TranscriptPlan.Request, limit: Int, logger: Logger) async throws -> TranscriptSlice {
        let arguments: [any RedisArgument]
        switch request {
        case .from(let position): arguments = ["from", position, limit]
        case .before(let position): arguments = ["before", position.map(String.init) ?? "", limit]
        }
        let keys = keepsArchives ? [key, Self.archiveKey(of: key)] : [key]
        let reply = try await mapped(key, archive: keys.last) {
            try await client.evaluate(Self.transcriptScript, keys: keys, arguments: arguments, logger: logger)
        }
        guard let parts = reply.array, parts.count >= 5, let start = parts[0].int, let end = parts[1].int, let total = parts[2].int,
              let archived = parts[3].array, let live = parts[4].array,
              0 <= start, start <= end, end <= total, archived.count + live.count == end - start else {
            throw ChatMemoryError.unexpectedReply("transcript script returned \(reply.shape)")
        }
        return TranscriptSlice(start: start, end: end, total: total, archived: archived.map { $0.bytes ?? [] },
                               live: live.reversed().map { $0.bytes ?? [] }, summary: parts.count > 5 ? parts[5].bytes : nil)
    }
}
