import ChatMemoryRedis
import Logging

extension EmbeddedChatStorage: CompactionStorage {
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration, logger: Logger) async throws -> Bool {
        withLists {
            let now = ContinuousClock.now
            if let lease = leases[key], lease.expires > now { return false }
            leases = leases.filter { $0.value.expires > now }
            leases[key] = (token, now + duration)
            return true
        }
    }

    func releaseLease(_ key: [UInt8], token: [UInt8], logger: Logger) async throws {
        withLists {
            if leases[key]?.token == token { leases[key] = nil }
        }
    }

    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int,
                       archive: ArchiveWrite?, logger: Logger) async throws -> Bool {
        withLists {
            guard !expected.isEmpty, var list = lists[key], list.entries.count >= expected.count + max(1, keep),
                  list.entries.suffix(expected.count).elementsEqual(expected.reversed()) else { return false }
            if let archive {
                var kept = archives[key] ?? Archive()
                kept.entries += expected.dropFirst(archive.skipping)
                if let cap = archive.maxMessages, kept.entries.count > cap { kept.entries.removeFirst(kept.entries.count - cap) }
                archives[key] = kept
                setArchiveExpiry(key, archive.timeToLive.map { ContinuousClock.now + $0 } ?? list.expires)
            }
            list.entries.removeLast(expected.count)
            list.entries.append(summary)
            lists[key] = list
            return true
        }
    }

    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?) {
        withLists {
            let entries = lists[key]?.entries ?? []
            return (entries.prefix(max(0, count)).map(RedisBytes.init), entries.last.map(RedisBytes.init))
        }
    }

    var identity: ObjectIdentifier { ObjectIdentifier(self) }
}
