import ChatMemoryRedis
import Logging

/// What sliding expiry (``ChatMemoryConfiguration/refreshesTimeToLiveOnRead``) needs from a
/// storage backend: setting a list's time to live again without writing it. Internal:
/// ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it.
protocol SlidingExpiryStorage: ChatStorage {
    /// Sets the list at `key` (its id index, and its transcript archive when `archive`) to
    /// expire `timeToLive` from now, when it exists; a missing list stays missing.
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, archive: Bool, logger: Logger) async throws
}

extension RedisChatStorage: SlidingExpiryStorage {
    /// `PEXPIRE` on the session, on its id index and, when `archive`, on its transcript
    /// archive, in one round trip (they share a slot).
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, archive: Bool, logger: Logger) async throws {
        let milliseconds = RetentionPolicy.milliseconds(timeToLive)
        var commands = [RedisCommand("PEXPIRE", key, milliseconds), RedisCommand("PEXPIRE", Self.indexKey(of: key), milliseconds)]
        if archive { commands.append(RedisCommand("PEXPIRE", Self.archiveKey(of: key), milliseconds)) }
        let replies = try await mapped(key) { try await client.pipeline(commands, logger: logger) }
        for reply in replies { _ = try reply.get() }
    }
}

extension EmbeddedChatStorage: SlidingExpiryStorage {
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, archive: Bool, logger: Logger) async throws {
        withLists { refreshLocked(key, to: timeToLive, archive: archive) }
    }
}

extension ChatSession {
    /// After a read: with ``ChatMemoryConfiguration/refreshesTimeToLiveOnRead``, the session
    /// expires ``ChatMemoryConfiguration/timeToLive`` from now.
    func refreshAfterRead(logger: Logger) async throws {
        guard configuration.refreshesTimeToLiveOnRead, let timeToLive = configuration.timeToLive,
              let storage = storage as? any SlidingExpiryStorage else { return }
        let archiveFollows = configuration.compaction.archive.map { $0.timeToLive == nil } ?? false
        try await storage.refreshTimeToLive(key, to: timeToLive, archive: archiveFollows, logger: logger)
        // The owner's list must not expire before the session it lists.
        if let ownerKey, let index = storage as? any ConversationIndexStorage {
            try await index.refreshConversationIndex(owner: ownerKey, to: timeToLive, logger: logger)
        }
    }
}
