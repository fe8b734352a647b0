import Foundation
import ChatMemoryRedis
import Logging
import Testing
@testable import ChatMemory

/// Owners' lists of conversations: kept by every write to an owned session, paged by last
/// activity, with titles, creation times and counts; expired or deleted sessions leave the list;
/// erasing an owner removes its sessions and its list and nothing else. On every store (and, run
/// by Scripts/test.sh, through a cluster and Sentinel).
@Suite struct StoreConversationTests {
    /// A fresh owner id for one test.
    private static func owner(_ label: String) -> OwnerID {
        try! OwnerID("\(label)-\(UUID().uuidString.prefix(8))")
    }

    /// All of an owner's conversations, page by page, checking each page's order.
    private static func everyConversation(_ memory: RedisChatMemory, of owner: OwnerID, limit: Int) async throws -> [Conversation] {
        var all: [Conversation] = []
        var cursor: ConversationCursor?
        repeat {
            let page = try await memory.conversations(of: owner, after: cursor, limit: limit)
            #expect(page.conversations.count <= limit)
            all += page.conversations
            cursor = page.next
        } while cursor != nil
        for (newer, older) in zip(all, all.dropFirst()) {
            #expect(newer.lastActive >= older.lastActive, "\(newer.id) listed before \(older.id)")
        }
        return all
    }

    /// Lets the store's clock move on by a few milliseconds, so two writes get different times.
    private static func tick() async throws { try await Task.sleep(for: .milliseconds(3)) }

    @Test(arguments: StoreKind.allCases)
    func conversationsAreListedByLastActivityWithTitlesAndCounts(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let alice = Self.owner("alice"), bob = Self.owner("bob")
            let first = store.memory.session("first", owner: alice)
            let second = store.memory.session("second", owner: alice)
            let third = store.memory.session("third", owner: alice)
            try await first.append(contentsOf: storeTestTurns(2))
            try await Self.tick()
            try await second.append(contentsOf: storeTestTurns(3))
            try await Self.tick()
            try await third.append(contentsOf: storeTestTurns(1))
            try await Self.tick()
            try await first.append(contentsOf: storeTestTurns(2, label: "again"))
            try await second.setTitle("Trip to Lisbon 🇵🇹")
            try await store.memory.session("bobs", owner: bob).append(contentsOf: storeTestTurns(1))
            try await store.memory.session("nobodys").append(contentsOf: storeTestTurns(1))

            let page = try await store.memory.conversations(of: alice)
            #expect(page.conversations.map(\.id) == ["first", "third", "second"])
            #expect(page.conversations.map(\.messageCount) == [4, 1, 3])
            #expect(page.conversations.map(\.title) == [nil, nil, "Trip to Lisbon 🇵🇹"])
            #expect(page.next == nil)
            let firstListed = try #require(page.conversations.first)
            #expect(firstListed.created < firstListed.lastActive, "created by its first append, active at its last")
            #expect(try await store.memory.conversations(of: bob).conversations.map(\.id) == ["bobs"])

            try await second.setTitle(nil)
            #expect(try await store.memory.conversations(of: alice).conversations.last?.title == nil)
            #expect(try await store.memory.erase(owner: alice) == 3)
            #expect(try await store.memory.erase(owner: bob) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pagingVisitsEveryConversationOnceInOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("pager")
            // Appended concurrently: many share a millisecond, so pages end between equal times.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<25 {
                    group.addTask { try await store.memory.session(try SessionID("s\(index)"), owner: owner).append(.user("hello \(index)")) }
                }
                try await group.waitForAll()
            }
            for limit in [1, 4, 7, 25, 1000] {
                let listed = try await Self.everyConversation(store.memory, of: owner, limit: limit)
                #expect(listed.count == 25, "limit \(limit)")
                #expect(Set(listed.map(\.id)).count == 25, "limit \(limit): a conversation listed twice")
            }
            #expect(try await store.memory.erase(owner: owner) == 25)
        }
    }

    /// Conversations of one millisecond are ordered by id; one of them written again (it moves to
    /// the top) or deleted while a listing pages must not make the listing skip or repeat another.
    @Test(arguments: StoreKind.allCases)
    func pagingSkipsNoStillConversationWhenOthersMoveOrGo(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("ties")
            let chats = (0..<10).map { store.memory.session(try! SessionID("s\($0)"), owner: owner) }
            for chat in chats { try await chat.append(.user("hello")) }
            // All ten written in the same millisecond (set by hand: a fast machine does it at times).
            let ownerKey = store.memory.key(of: owner)
            if let embedded = store.memory.storage as? EmbeddedChatStorage {
                embedded.withLists { for chat in chats { embedded.owners[ownerKey]?.active[chat.id.bytes] = 1_000 } }
            } else {
                let admin = RedisClient(configuration: try storeTestRedisConfiguration())
                for chat in chats { try await admin.send("ZADD", RedisChatStorage.ownerIndexKey(of: ownerKey), 1_000, chat.id.bytes) }
                await admin.shutdown()
            }
            let first = try await store.memory.conversations(of: owner, limit: 3)
            #expect(first.conversations.map(\.id) == ["s9", "s8", "s7"])
            try await chats[8].append(.user("again"))       // moves to the top
            try await chats[6].clear()                       // gone before the listing meets it
            var rest: [SessionID] = []
            var cursor = first.next
            while let next = cursor {
                let page = try await store.memory.conversations(of: owner, after: next, limit: 3)
                rest += page.conversations.map(\.id)
                cursor = page.next
            }
            #expect(rest == ["s5", "s4", "s3", "s2", "s1", "s0"])
            #expect(try await store.memory.erase(owner: owner) == 9)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aDeletedSessionLeavesTheListAndAWrittenOneComesBack(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("leaver")
            let kept = store.memory.session("kept", owner: owner)
            let gone = store.memory.session("gone", owner: owner)
            try await kept.append(.user("stay"))
            try await gone.append(.user("leave"))
            try await gone.clear()
            #expect(try await store.memory.conversations(of: owner).conversations.map(\.id) == ["kept"])
            // Forgotten by that listing: even the index no longer holds it.
            let index = try #require(store.memory.storage as? any ConversationIndexStorage)
            let ownerKey = store.memory.key(of: owner)
            let rows = try await index.conversationPage(owner: ownerKey, after: nil, limit: 10, logger: store.memory.logger).rows
            #expect(rows.map(\.session) == [Array("kept".utf8)])
            try await gone.append(.user("back"))
            #expect(Set(try await store.memory.conversations(of: owner).conversations.map(\.id)) == ["kept", "gone"])
            #expect(try await store.memory.erase(owner: owner) == 2)
        }
    }

    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func expiredSessionsLeaveAndTheListExpiresWithThem(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .seconds(3600) }) { store in
            let owner = Self.owner("expiring")
            let chat = store.memory.session("short-lived", owner: owner)
            let kept = store.memory.session("kept", owner: owner)
            try await chat.append(.user("soon gone"))
            try await kept.append(.user("still here"))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let ownerKey = store.memory.key(of: owner)
            for key in [RedisChatStorage.ownerIndexKey(of: ownerKey), RedisChatStorage.ownerInfoKey(of: ownerKey)] {
                let left = try #require(try await admin.send("PTTL", key).int)
                #expect(left > 3_000_000 && left <= 3_600_000, "the list gets the sessions' time to live")
            }
            // The session's time runs out (by hand, to not wait an hour).
            try await admin.send("PEXPIRE", chat.key, 1)
            try await waitUntil("the session expired") { try await chat.count() == 0 }
            #expect(try await store.memory.conversations(of: owner).conversations.map(\.id) == ["kept"])
            #expect(try await store.memory.erase(owner: owner) == 1)
            await admin.shutdown()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func erasingAnOwnerRemovesItsSessionsAndListAndNothingElse(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let erased = Self.owner("erased"), other = Self.owner("other")
            let mine = (0..<3).map { store.memory.session(try! SessionID("mine-\($0)"), owner: erased) }
            for chat in mine { try await chat.append(contentsOf: storeTestTurns(2)) }
            // One with a transcript archive.
            try await mine[1].append(contentsOf: storeTestTurns(40))
            #expect(try await mine[1].compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            try await mine[0].setTitle("first")
            try await store.memory.session("theirs", owner: other).append(.user("keep me"))
            try await store.memory.session("unowned").append(.user("keep me too"))
            #expect(try await store.memory.erase(owner: erased) == 3)
            for chat in mine { #expect(try await chat.count() == 0) }
            #expect(try await store.memory.conversations(of: erased).conversations.isEmpty)
            #expect(try await store.memory.session("theirs").count() == 1)
            #expect(try await store.memory.session("unowned").count() == 1)
            #expect(try await store.memory.conversations(of: other).conversations.map(\.id) == ["theirs"])
            if let client = store.client {
                // Nothing of the erased owner is left: its list, its sessions, their id indexes and archives.
                let ownerKey = store.memory.key(of: erased)
                var keys = [RedisChatStorage.ownerIndexKey(of: ownerKey), RedisChatStorage.ownerInfoKey(of: ownerKey)]
                for chat in mine { keys += [chat.key, RedisChatStorage.indexKey(of: chat.key), RedisChatStorage.archiveKey(of: chat.key)] }
                for key in keys { #expect(try await client.send("EXISTS", key) == .integer(0), "\(String(decoding: key, as: UTF8.self))") }
            }
            #expect(try await store.memory.erase(owner: erased) == 0, "erasing again finds nothing")
            #expect(try await store.memory.erase(owner: other) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func erasingAnOwnerOfManyPagesRemovesThemAll(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("many")
            let count = 1_100   // more than two of erase's pages of 500
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in stride(from: worker, to: count, by: 8) {
                            try await store.memory.session(try SessionID("s\(index)"), owner: owner).append(.user("m"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.memory.erase(owner: owner) == count)
            #expect(try await store.memory.conversations(of: owner).conversations.isEmpty)
            #expect(try await store.memory.sessions().collected().isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentWritersKeepEveryListingOrderedAndTheLastComplete(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owners = [Self.owner("busy-a"), Self.owner("busy-b")]
            let sessions = (0..<20).map { (id: try! SessionID("talk-\($0)"), owner: owners[$0 % 2]) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for round in 0..<10 {
                            let target = sessions[(writer * 7 + round * 3) % sessions.count]
                            try await store.memory.session(target.id, owner: target.owner).append(.user("w\(writer) r\(round)"))
                        }
                    }
                }
                group.addTask {
                    for _ in 0..<10 {
                        for owner in owners { _ = try await Self.everyConversation(store.memory, of: owner, limit: 3) }
                    }
                }
                try await group.waitForAll()
            }
            for owner in owners {
                let listed = try await Self.everyConversation(store.memory, of: owner, limit: 4)
                let written = Set(sessions.filter { $0.owner == owner }.map(\.id))
                #expect(listed.count == written.count)
                #expect(Set(listed.map(\.id)) == written)
                // Every writer's 10 messages, half of them (by target) under each owner.
                #expect(listed.reduce(0) { $0 + $1.messageCount } == 40)
            }
            var total = 0
            for owner in owners { total += try await store.memory.erase(owner: owner) }
            #expect(total == 20)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aTitleIsKeptOnlyForAConversationTheListHolds(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("titles")
            let chat = store.memory.session("untitled", owner: owner)
            #expect(try await chat.setTitle("too early") == false, "never written under this owner")
            if let client = store.client {
                let info = RedisChatStorage.ownerInfoKey(of: store.memory.key(of: owner))
                #expect(try await client.send("EXISTS", info) == .integer(0), "nothing written")
            }
            try await chat.append(.user("hello"))
            #expect(try await chat.setTitle("now") == true)
            #expect(try await store.memory.erase(owner: owner) == 1)
            #expect(try await chat.setTitle("after the erasure") == false)
            #expect(try await store.memory.conversations(of: owner).conversations.isEmpty)
        }
    }

    /// A mark always raises a session's time, even when the clock has not moved past it (a
    /// failover to a node whose clock is behind): a listing that read the old time and found the
    /// session empty never forgets it once it is written again.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aSessionWrittenAgainIsNeverForgottenByAListingThatSawItEmpty(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("skew")
            let chat = store.memory.session("ahead", owner: owner)
            try await chat.append(.user("hello"))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let ownerKey = store.memory.key(of: owner)
            let ahead = Int64(Date().timeIntervalSince1970 * 1000) + 600_000
            try await admin.send("ZADD", RedisChatStorage.ownerIndexKey(of: ownerKey), ahead, chat.id.bytes)
            try await chat.clear()                                  // a listing now reads it empty...
            try await chat.append(.user("back"))                    // ...but it is written again
            let index = try #require(store.memory.storage as? any ConversationIndexStorage)
            #expect(try await index.forgetConversation(chat.id.bytes, owner: ownerKey, activeAt: ahead, logger: store.memory.logger) == false)
            let listed = try await store.memory.conversations(of: owner).conversations
            #expect(listed.map(\.id) == ["ahead"])
            #expect(listed.first.map { $0.lastActive > Date(timeIntervalSince1970: Double(ahead) / 1000) } == true, "its time still grew")
            #expect(try await store.memory.erase(owner: owner) == 1)
            await admin.shutdown()
        }
    }

    /// Workers with different settings write one owner's sessions: the list expires no sooner
    /// than the longest-lived of them, and never when one never expires.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func theListOutlivesEverySessionWhateverTheirSettings(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .seconds(3600) }) { store in
            let owner = Self.owner("lives")
            try await store.memory.session("long", owner: owner).append(.user("an hour"))
            let client = try store.redis()
            var short = store.memory.configuration
            short.timeToLive = .seconds(600)
            try await RedisChatMemory(client: client, configuration: short).session("short", owner: owner).append(.user("ten minutes"))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let ownerKey = store.memory.key(of: owner)
            let keys = [RedisChatStorage.ownerIndexKey(of: ownerKey), RedisChatStorage.ownerInfoKey(of: ownerKey)]
            for key in keys { #expect(try #require(try await admin.send("PTTL", key).int) > 3_000_000, "not shortened") }
            var forever = store.memory.configuration
            forever.timeToLive = nil
            try await RedisChatMemory(client: client, configuration: forever).session("forever", owner: owner).append(.user("always"))
            for key in keys { #expect(try await admin.send("PTTL", key) == .integer(-1), "a session that never expires keeps the list") }
            #expect(try await store.memory.erase(owner: owner) == 3)
            await admin.shutdown()
        }
    }

    /// A key of another type where a listed session would be (someone else's value) is not a
    /// conversation: the listing leaves it out, erasing leaves it alone, and neither is stuck on it.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aForeignKeyInTheListBlocksNeitherListingNorErasing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let owner = Self.owner("foreign")
            let foreign = store.memory.session("foreign", owner: owner)
            try await foreign.append(.user("soon replaced"))
            try await store.memory.session("fine", owner: owner).append(.user("hello"))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            try await admin.send("DEL", foreign.key)
            try await admin.send("SET", foreign.key, "someone else's")
            #expect(try await store.memory.conversations(of: owner).conversations.map(\.id) == ["fine"])
            await #expect(throws: ChatMemoryError.self) { try await foreign.append(.user("a write fails on the foreign key")) }
            #expect(try await store.memory.erase(owner: owner) == 1)
            #expect(try await admin.send("GET", foreign.key).string == "someone else's")
            try await admin.send("DEL", foreign.key)
            await admin.shutdown()
        }
    }

    @Test func badInputIsATypedError() async throws {
        let memory = try RedisChatMemory(storage: EmbeddedChatStorage())
        for limit in [0, -1, RedisChatMemory.maxConversationPage + 1, Int.max, Int.min] {
            await #expect(throws: ChatMemoryError.self) { _ = try await memory.conversations(of: "someone", limit: limit) }
        }
        await #expect(throws: ChatMemoryError.self) { try await memory.session("unowned").setTitle("no owner") }
        await #expect(throws: ChatMemoryError.self) {
            try await memory.session("owned", owner: "someone").setTitle(String(repeating: "é", count: ChatSession.maxTitleBytes))
        }
        let tooLong = "1-" + String(repeating: "ab", count: SessionID.maxLength + 1)
        for token in ["", "-", "1", "1-", "-1", "a-b", "1-abc", "1-zz", "1-AB", "-5-61", "1--61", "99999999999999999999-61", tooLong] {
            #expect(ConversationCursor(token) == nil, "\(token)")
        }
        for session in [[UInt8](arrayLiteral: 0x61), [0x00, 0xFF, 0x2D, 0x7B]] {
            let cursor = ConversationCursor(activeAt: 1_765_000_000_123, session: session)
            #expect(ConversationCursor(cursor.description) == cursor)
        }
    }

    @Test func aStorageWithoutAnIndexRefusesOwnedWritesBeforeWriting() async throws {
        let base = EmbeddedChatStorage()
        let memory = try RedisChatMemory(storage: PlainStorage(base: base))
        await #expect(throws: ChatMemoryError.self) { try await memory.session("owned", owner: "someone").append(.user("hi")) }
        #expect(try await memory.session("owned").count() == 0, "nothing written")
        await #expect(throws: ChatMemoryError.self) { _ = try await memory.conversations(of: "someone") }
        await #expect(throws: ChatMemoryError.self) { _ = try await memory.erase(owner: "someone") }
    }

    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aSlidingReadKeepsTheListAsLongAsTheSession(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .seconds(3600); $0.refreshesTimeToLiveOnRead = true }) { store in
            let owner = Self.owner("reader")
            let chat = store.memory.session("read-only", owner: owner)
            try await chat.append(.user("hello"))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let ownerKey = store.memory.key(of: owner)
            let keys = [RedisChatStorage.ownerIndexKey(of: ownerKey), RedisChatStorage.ownerInfoKey(of: ownerKey)]
            for key in keys { try await admin.send("PEXPIRE", key, 100_000) }
            _ = try await chat.recent(1)
            for key in keys { #expect(try #require(try await admin.send("PTTL", key).int) > 1_000_000) }
            #expect(try await store.memory.erase(owner: owner) == 1)
            await admin.shutdown()
        }
    }
}

/// A storage of one's own: only the public ``ChatStorage`` protocol.
private struct PlainStorage: ChatStorage {
    let base: EmbeddedChatStorage
    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        try await base.append(entries, to: key, policy: policy, logger: logger)
    }
    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        try await base.range(key, start: start, stop: stop, logger: logger)
    }
    func length(_ key: [UInt8], logger: Logger) async throws -> Int { try await base.length(key, logger: logger) }
    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool { try await base.delete(key, logger: logger) }
    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? { try await base.timeToLive(key, logger: logger) }
    func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
        try await base.keys(withPrefix: prefix, cursor: cursor)
    }
}
