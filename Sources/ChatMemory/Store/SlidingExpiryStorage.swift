import ChatMemoryRedis
import Logging

/// What sliding expiry (``ChatMemoryConfiguration/refreshesTimeToLiveOnRead``) needs from a
/// storage backend: setting a list's time to live again without writing it. Internal:
/// ``RedisChatStorage`` and ``EmbeddedChatStorage`` adopt it.
protocol SlidingExpiryStorage: ChatStorage {
    /// Sets the list at `key` (and anything kept beside it) to expire `timeToLive` from now,
    /// when it exists; a missing list stays missing.
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, logger: Logger) async throws
}

extension RedisChatStorage: SlidingExpiryStorage {
    /// `PEXPIRE` on the session and on its id index, in one round trip (they share a slot).
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, logger: Logger) async throws {
        let milliseconds = RetentionPolicy.milliseconds(timeToLive)
        let replies = try await mapped(key) {
            try await client.pipeline([RedisCommand("PEXPIRE", key, milliseconds), RedisCommand("PEXPIRE", Self.indexKey(of: key), milliseconds)],
                                      logger: logger)
        }
        for reply in replies { _ = try reply.get() }
    }
}

extension EmbeddedChatStorage: SlidingExpiryStorage {
    func refreshTimeToLive(_ key: [UInt8], to timeToLive: Duration, logger: Logger) async throws {
        withLists { refreshLocked(key, to: timeToLive) }
    }
}

extension ChatSession {
    /// After a read: with ``ChatMemoryConfiguration/refreshesTimeToLiveOnRead``, the session
    /// expires ``ChatMemoryConfiguration/timeToLive`` from now.
    func refreshAfterRead(logger: Logger) async throws {
        guard configuration.refreshesTimeToLiveOnRead, let timeToLive = configuration.timeToLive,
              let storage = storage as? any SlidingExpiryStorage else { return }
        try await storage.refreshTimeToLive(key, to: timeToLive, logger: logger)
        // The owner's list must not expire before the session it lists.
        if let ownerKey, let index = storage as? any ConversationIndexStorage {
            try await index.refreshConversationIndex(owner: ownerKey, to: timeToLive, logger: logger)
        }
    }
}
