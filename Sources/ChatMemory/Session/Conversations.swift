import Foundation
import Logging

/// Whose conversations these are: a user or a tenant. Any byte sequence of 1 to 512 bytes, as a
/// ``SessionID``.
public typealias OwnerID = SessionID

/// One of an owner's conversations, as ``RedisChatMemory/conversations(of:after:limit:logger:)``
/// lists it.
public struct Conversation: Sendable, Hashable {
    /// The session.
    public let id: SessionID
    /// Set by ``ChatSession/setTitle(_:logger:)``; `nil` until then.
    public let title: String?
    /// When the session was first written under its owner (the storage's clock: Redis's `TIME`).
    public let created: Date
    /// When it was last written (appended to, edited) under its owner.
    public let lastActive: Date
    /// The entries the session holds now (a summary counts as one); 0 when only its transcript
    /// archive is left (the session expired before an archive with its own time to live).
    public let messageCount: Int
}

/// One page of an owner's conversations, most recently active first.
public struct ConversationPage: Sendable, Hashable {
    public let conversations: [Conversation]
    /// Where the next page starts; `nil` when this page is the last.
    public let next: ConversationCursor?
}

/// Where a page of conversations starts: just below the previous page's last conversation, by
/// last-active time, then by session id (bytes, descending) among conversations of that very
/// time. Its ``description`` is a token that ``init(_:)`` reads back (to hand to a browser and back).
public struct ConversationCursor: Sendable, Hashable, CustomStringConvertible {
    /// The last-active time (ms) of the previous page's last conversation.
    let activeAt: Int64
    /// That conversation's session id.
    let session: [UInt8]

    init(activeAt: Int64, session: [UInt8]) {
        self.activeAt = activeAt
        self.session = session
    }

    /// A cursor from its ``description``; `nil` when the text is not one.
    public init?(_ token: String) {
        let parts = token.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        // Only the form `description` writes (lowercase digits).
        guard parts.count == 2, let activeAt = Int64(parts[0]), activeAt >= 0, let session = Hex.decode(parts[1]),
              (1...SessionID.maxLength).contains(session.count), Hex.encode(session) == parts[1] else { return nil }
        self.init(activeAt: activeAt, session: session)
    }

    public var description: String { "\(activeAt)-" + Hex.encode(session) }
}

extension RedisChatMemory {
    /// The most conversations one page may hold.
    public static let maxConversationPage = 1000

    /// One page of `owner`'s conversations (sessions written through ``session(_:owner:)``), most
    /// recently active first, from `cursor` on (`nil`: from the newest).
    ///
    /// ```swift
    /// var page = try await memory.conversations(of: "user-42", limit: 20)
    /// for conversation in page.conversations { print(conversation.title ?? "Untitled", conversation.lastActive) }
    /// if let next = page.next { page = try await memory.conversations(of: "user-42", after: next, limit: 20) }
    /// ```
    ///
    /// The list is kept by every write to an owned session, in the owner's own index (on a
    /// cluster, in the owner's hash slot; no script spans two slots), and reads no session but to
    /// count its entries (all of a page's counts asked at once). A session that expired or was
    /// deleted leaves the list the first time a listing meets it, unless its transcript archive
    /// lives on (``TranscriptArchive/timeToLive`` longer than the session's): the list lives as
    /// long as the archive, and the conversation stays listed, with no entries. Paging never repeats or skips a conversation that is not written
    /// meanwhile; one written while you page moves to the top, and shows on the next listing.
    /// `limit` is 1 to ``maxConversationPage``.
    public func conversations(of owner: OwnerID, after cursor: ConversationCursor? = nil, limit: Int = 50,
                              logger: Logger? = nil) async throws -> ConversationPage {
        guard (1...Self.maxConversationPage).contains(limit) else {
            throw ChatMemoryError.invalidConfiguration("a page of conversations holds 1 to \(Self.maxConversationPage) (got \(limit))")
        }
        let logger = logger ?? self.logger
        let index = try conversationIndex()
        let ownerKey = key(of: owner)
        var conversations: [Conversation] = []
        var cursor = cursor
        repeat {
            let (rows, next) = try await index.conversationPage(owner: ownerKey, after: cursor, limit: limit - conversations.count, logger: logger)
            cursor = next
            let counts = try await messageCounts(of: rows, logger: logger)
            for (row, count) in zip(rows, counts) {
                // Expired, deleted, or not a session (an id too long, a key of another type): it
                // leaves the list, unless it was written meanwhile.
                guard let id = try? SessionID(bytes: row.session), let count else {
                    _ = try await index.forgetConversation(row.session, owner: ownerKey, activeAt: row.lastActive, logger: logger)
                    continue
                }
                conversations.append(Conversation(id: id, title: row.title, created: Self.date(row.created),
                                                  lastActive: Self.date(row.lastActive), messageCount: count))
            }
        } while conversations.count < limit && cursor != nil
        return ConversationPage(conversations: conversations, next: cursor)
    }

    /// Deletes every session in `owner`'s list of conversations (as ``delete(_:)`` does) and the
    /// list itself; returns how many sessions existed. A key of another type where a listed
    /// session would be is left alone (and leaves the list). A session written under the owner
    /// while this runs may survive it, and then stays in the list, so erasing again removes it:
    /// stop the owner's traffic first for an erasure that must be whole.
    @discardableResult
    public func erase(owner: OwnerID, logger: Logger? = nil) async throws -> Int {
        let logger = logger ?? self.logger
        let index = try conversationIndex()
        let ownerKey = key(of: owner)
        var erased = 0
        // One walk down the list by (last activity, id): it meets every session not written
        // meanwhile exactly once, however many leave or move to the top while it runs.
        var cursor: ConversationCursor?
        repeat {
            let (rows, next) = try await index.conversationPage(owner: ownerKey, after: cursor, limit: 500, logger: logger)
            cursor = next
            for row in rows {
                if let id = try? SessionID(bytes: row.session) {
                    do {
                        if try await self.session(id).clear(logger: logger) { erased += 1 }
                    } catch let error as ChatMemoryError where error.code == .wrongKeyType {
                        logger.debug("a listed session is a key of another type: left alone", metadata: ["chat.session": "\(id)"])
                    }
                }
                // Only if not written since it was read: a session written meanwhile stays listed.
                _ = try await index.forgetConversation(row.session, owner: ownerKey, activeAt: row.lastActive, logger: logger)
            }
        } while cursor != nil
        _ = try await index.deleteConversationIndex(owner: ownerKey, logger: logger)
        return erased
    }

    /// The entry counts of the rows' sessions, asked all at once (the client pipelines them);
    /// `nil` for a row that names no session or whose key holds something else.
    private func messageCounts(of rows: [ConversationRow], logger: Logger) async throws -> [Int?] {
        try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
            for (index, row) in rows.enumerated() {
                guard let id = try? SessionID(bytes: row.session) else { continue }
                group.addTask { (index, try await self.messageCount(of: id, logger: logger)) }
            }
            var counts = [Int?](repeating: nil, count: rows.count)
            for try await (index, count) in group { counts[index] = count }
            return counts
        }
    }

    /// A session's entry count, or `nil` when its key holds something else. A session whose
    /// list is gone but whose transcript archive lives counts 0 (it stays listed); one with
    /// neither counts `nil`.
    private func messageCount(of id: SessionID, logger: Logger) async throws -> Int? {
        let key = key(of: id)
        do {
            let count = try await storage.length(key, logger: logger)
            guard count == 0 else { return count }
            guard configuration.compaction.archive != nil, let transcripts = storage as? any TranscriptStorage else { return nil }
            return try await transcripts.archiveLength(key, logger: logger) > 0 ? 0 : nil
        } catch let error as ChatMemoryError where error.code == .wrongKeyType {
            return nil
        }
    }

    private func conversationIndex() throws -> any ConversationIndexStorage {
        guard let index = storage as? any ConversationIndexStorage else {
            throw ChatMemoryError.unsupportedByStorage("lists of conversations need Redis or EmbeddedChatStorage (\(type(of: storage)) has no owner index)")
        }
        return index
    }

    private static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension ChatSession {
    /// The longest title, in bytes of UTF-8.
    public static let maxTitleBytes = 1024

    /// Sets the title the owner's list of conversations shows (`nil` removes it). Returns false,
    /// and writes nothing, when the list does not hold the session (it was never written under
    /// this owner, or it expired, or the owner was erased): write to it first. Throws
    /// ``ChatMemoryError/Code/invalidConfiguration`` for a session without an owner, or a title
    /// longer than ``maxTitleBytes``.
    @discardableResult
    public func setTitle(_ title: String?, logger: Logger? = nil) async throws -> Bool {
        guard let ownerKey else {
            throw ChatMemoryError.invalidConfiguration("a title is kept in the owner's list of conversations: open the session with session(_:owner:)")
        }
        if let title, title.utf8.count > Self.maxTitleBytes {
            throw ChatMemoryError.invalidConfiguration("a title has at most \(Self.maxTitleBytes) bytes (got \(title.utf8.count))")
        }
        guard let index = try conversationIndex() else { return false }
        return try await index.setConversationTitle(title, session: id.bytes, owner: ownerKey, logger: callLogger(logger))
    }

    /// The owner index to mark after a write, checked before the write: `nil` for a session
    /// without an owner; throws when the storage keeps none.
    func conversationIndex() throws -> (any ConversationIndexStorage)? {
        guard ownerKey != nil else { return nil }
        guard let index = storage as? any ConversationIndexStorage else {
            throw ChatMemoryError.unsupportedByStorage("an owned session needs Redis or EmbeddedChatStorage (\(type(of: storage)) has no owner index)")
        }
        return index
    }

    /// Marks the session active in its owner's list, after a write. If this throws, the write
    /// stands: retrying it (idempotent) marks the session again.
    func touchConversation(_ index: (any ConversationIndexStorage)?, logger: Logger) async throws {
        guard let index, let ownerKey else { return }
        try await index.touchConversation(id.bytes, owner: ownerKey, timeToLive: ownerListTimeToLive, logger: logger)
    }

    /// How long the owner's list must live after a write: as long as the session, or as its
    /// transcript archive when that lives longer (its own ``TranscriptArchive/timeToLive``), so
    /// the list still names a session whose archive outlives it; `nil` (forever) when the
    /// session never expires.
    var ownerListTimeToLive: Duration? {
        guard let timeToLive = configuration.timeToLive else { return nil }
        return max(timeToLive, configuration.compaction.archive?.timeToLive ?? timeToLive)
    }
}
