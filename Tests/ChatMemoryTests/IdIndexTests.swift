import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory
import TestSupport

/// The append's id index (`ids:{tag}` and the session's key): what a retry finds through it, how
/// it follows the session (deleted by hand, written without it, capped, expiring, deleted), and
/// that appends give exactly what the embedded store (which reads the entries) gives.
@Suite struct IdIndexTests {
    @Test(arguments: [StoreKind.redis, .leastPrivilege], [1, 3, 16])
    func aRetryAfterExactlyTheWindowIsANoOpAndAfterOneMoreIsAppended(kind: StoreKind, window: Int) async throws {
        try await withStore(kind, { $0.idempotencyWindow = window }) { store in
            let chat = store.memory.session("window")
            let held = ChatMessage(id: "held", role: .user, content: "held")
            try await chat.append(held)
            for other in storeTestTurns(window, label: "single") { try await chat.append(other) }
            // A retry is a new message value with the same id (its time differs).
            #expect(try await chat.append(ChatMessage(id: "held", role: .user, content: "held")).appended == 0)
            let second = ChatMessage(id: "second", role: .user, content: "second")
            try await chat.append(second)
            try await chat.append(contentsOf: storeTestTurns(window, label: "batch"))
            #expect(try await chat.append(second) == AppendResult(appended: 0, duplicates: 1, length: 2 + 2 * window))
            let dropped = ChatMessage(id: "dropped", role: .user, content: "dropped")
            try await chat.append(dropped)
            for other in storeTestTurns(window + 1, label: "more") { try await chat.append(other) }
            #expect(try await chat.append(dropped).appended == 1)
            // The index starts with the newest window + 1 ids, newest first, and holds at most
            // twice that, all of the session's newest.
            let all = try await chat.all().reversed().map { #"{"id":"\#($0.id)","# }
            let ids = try await Self.ids(of: chat, store)
            #expect(ids.count >= window + 1 && ids.count <= 2 * (window + 1))
            #expect(ids == Array(all.prefix(ids.count)))
        }
    }

    @Test func aSessionDeletedByHandTakesTheRetryAgain() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("deleted-by-hand")
            let message = ChatMessage(id: "m", role: .user, content: "hello")
            try await chat.append(message)
            try await chat.append(contentsOf: storeTestTurns(3))
            try await store.redis().send("DEL", chat.key)
            #expect(try await store.redis().send("EXISTS", Self.index(of: chat)).int == 1)
            #expect(try await chat.append(message) == AppendResult(appended: 1, duplicates: 0, length: 1))
            #expect(try await Self.ids(of: chat, store) == [#"{"id":"m","#])
            // Trimmed by hand below what the index holds: the index is rebuilt from the session.
            try await chat.append(contentsOf: storeTestTurns(5, label: "again"))
            try await store.redis().send("LTRIM", chat.key, 0, 1)
            #expect(try await chat.append(message) == AppendResult(appended: 1, duplicates: 0, length: 3))
        }
    }

    @Test(arguments: [1, 5])
    func aSessionWithoutAnIndexStillRecognisesARetry(batch: Int) async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("no-index")
            let turns = storeTestTurns(batch, label: "retried")
            try await chat.append(contentsOf: turns)
            try await chat.append(contentsOf: storeTestTurns(16, label: "other"))
            // As a session written before the index existed, or by another tool.
            try await store.redis().send("DEL", Self.index(of: chat))
            #expect(try await chat.append(contentsOf: turns) == AppendResult(appended: 0, duplicates: batch, length: 16 + batch))
            let newest = try await chat.all().suffix(17).reversed().map { #"{"id":"\#($0.id)","# }
            #expect(try await Self.ids(of: chat, store) == Array(newest))
            #expect(try await chat.append(turns[batch - 1]).appended == 0)
        }
    }

    @Test func anIndexWrittenWithASmallerWindowIsCompletedFromTheSession() async throws {
        let prefix = "test-chat-\(UUID().uuidString.prefix(8)):"
        try await withStore(.redis, { $0.keyPrefix = prefix; $0.idempotencyWindow = 2 }) { small in
            let chat = small.memory.session("mixed-windows")
            let early = ChatMessage(id: "early", role: .user, content: "early")
            try await chat.append(early)
            for other in storeTestTurns(10) { try await chat.append(other) }
            #expect(try await Self.ids(of: chat, small).count == 3)
            var configuration = ChatMemoryConfiguration()
            configuration.keyPrefix = prefix
            let wide = try RedisChatMemory(client: try small.redis(), configuration: configuration)
            #expect(try await wide.session("mixed-windows").append(early).appended == 0)
            #expect(try await Self.ids(of: chat, small).count == 11)
        }
    }

    @Test(arguments: [nil, 86_400] as [Int?])
    func theIndexSharesTheSessionsSlotAndExpiry(seconds: Int?) async throws {
        try await withStore(.redis, { $0.timeToLive = seconds.map { .seconds($0) } }) { store in
            let redis = try store.redis()
            let ids: [[UInt8]] = [Array("{".utf8), Array("}".utf8), Array("{}".utf8), Array("{a}".utf8), Array("x{a}y".utf8),
                                  [0x00], [0x7B, 0x00, 0x7D], [0xFF, 0xFE, 0x7B, 0x7D], Array(repeating: 0x7B, count: 512),
                                  (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 1) }]
            for bytes in ids {
                let chat = store.memory.session(try SessionID(bytes: bytes))
                let index = Self.index(of: chat)
                #expect(HashSlot.of(index) == HashSlot.of(chat.key))
                let message = ChatMessage(role: .user, content: "hi")
                try await chat.append(message)
                #expect(try await chat.append(message).appended == 0)
                #expect(try await redis.send("TYPE", index) == .status("list"))
                // PTTL, not PEXPIRETIME (Redis 7.0 on): the suite runs on Redis 6.2 too. Both read
                // in one script (the keys share a slot), so no time passes between the reads.
                let left = try await redis.send("EVAL", "return {redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])}", 2, chat.key, index)
                let (listLeft, indexLeft) = (try #require(left.array?.first?.int), try #require(left.array?.last?.int))
                if let seconds {
                    // Set in one script call: the index gets the session's time to live plus a
                    // quarter (the server's clock may tick between the two).
                    let quarter = seconds * 1_000 / 4
                    #expect(listLeft > 0 && indexLeft >= listLeft && indexLeft - listLeft <= quarter + 1_000)
                } else {
                    #expect(listLeft == -1 && indexLeft == -1)
                }
            }
            #expect(Set(try await store.memory.sessions().collected().map(\.bytes)) == Set(ids))
        }
    }

    /// A retry, of one message or a batch, is decided by reads: nothing is written, not even
    /// the time to live (the first attempt set it), on every server.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aRetryWritesNothing(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .seconds(600) }) { store in
            let chat = store.memory.session("retry-reads")
            let message = ChatMessage.user("once")
            let batch = storeTestTurns(3)
            try await chat.append(contentsOf: batch)
            try await chat.append(message)
            let redis = try store.redis()
            let index = Self.index(of: chat)
            try await redis.send("PERSIST", chat.key)
            try await redis.send("PERSIST", index)
            let before = try await redis.send("LRANGE", index, 0, -1)
            #expect(try await chat.append(message) == AppendResult(appended: 0, duplicates: 1, length: 4))
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 0, duplicates: 3, length: 4))
            #expect(try await redis.send("PTTL", chat.key) == .integer(-1))
            #expect(try await redis.send("PTTL", index) == .integer(-1))
            #expect(try await redis.send("LRANGE", index, 0, -1) == before)
        }
    }

    @Test func deleteAndClearRemoveTheIndexToo() async throws {
        try await withStore(.redis) { store in
            let redis = try store.redis()
            for useClear in [false, true] {
                let chat = store.memory.session("deleted")
                try await chat.append(contentsOf: storeTestTurns(3))
                #expect(try await redis.send("EXISTS", chat.key, Self.index(of: chat)).int == 2)
                let removed = useClear ? try await chat.clear() : try await store.memory.delete("deleted")
                #expect(removed)
                #expect(try await redis.send("EXISTS", chat.key, Self.index(of: chat)).int == 0)
            }
            // An index left behind by a session deleted by hand goes with the next delete.
            let chat = store.memory.session("left-behind")
            try await chat.append(.user("hi"))
            try await redis.send("DEL", chat.key)
            #expect(try await chat.clear() == false)
            #expect(try await redis.send("EXISTS", Self.index(of: chat)).int == 0)
        }
    }

    @Test func sessionsOfLargeEntriesStillRecogniseRetries() async throws {
        try await withStore(.redis, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("large")
            let large = String(repeating: "tool output ", count: 100_000 / 12)
            let turns = (0..<20).map { ChatMessage(id: "large-\($0)", role: .tool, content: large, toolCallID: "call-\($0)") }
            for turn in turns { try await chat.append(turn) }
            #expect(try await chat.append(turns[3]).appended == 0)   // 16 others since
            #expect(try await chat.append(contentsOf: Array(turns[10...])) == AppendResult(appended: 0, duplicates: 10, length: 20))
            #expect(try await chat.count() == 20)
        }
    }

    @Test func aCapBelowTheWindowCapsTheIndex() async throws {
        try await withStore(.redis, { $0.maxMessages = 3 }) { store in
            let chat = store.memory.session("capped")
            let batch = storeTestTurns(5, label: "batch")
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 5, duplicates: 0, length: 3))
            #expect(try await Self.ids(of: chat, store).count == 3)
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 0, duplicates: 5, length: 3))
            #expect(try await chat.append(batch[4]).appended == 0)
            // Once the cap has trimmed the whole batch, a retry appends it again.
            try await chat.append(contentsOf: storeTestTurns(3, label: "other"))
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 5, duplicates: 0, length: 3))
            #expect(try await chat.all() == Array(batch.suffix(3)))
        }
    }

    @Test func aBatchRepeatingAnIDBeyondTheIndexStoresItOnce() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("repeats")
            let first = ChatMessage(id: "x", role: .user, content: "x")
            let batch = [first] + storeTestTurns(30) + [ChatMessage(id: "x", role: .user, content: "x again")]
            let stored = try await chat.append(contentsOf: batch)
            #expect(stored == AppendResult(appended: 31, duplicates: 1, length: 31))
            let retried = try await chat.append(contentsOf: batch)
            #expect(retried == AppendResult(appended: 0, duplicates: 32, length: 31))
        }
    }

    @Test func anIndexKeyOfAnotherTypeIsReportedAndLeftAlone() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("foreign-index")
            let redis = try store.redis()
            let index = Self.index(of: chat)
            try await redis.send("SET", index, "someone else's")
            let expected = ChatMemoryError.wrongKeyType(key: String(decoding: index, as: UTF8.self))
            await #expect(throws: expected) { try await chat.append(.user("first")) }
            #expect(try await chat.count() == 0)
            #expect(try await redis.send("GET", index).string == "someone else's")
            #expect(try await chat.clear() == false)
            #expect(try await redis.send("GET", index).string == "someone else's")
            try await redis.send("DEL", index)
        }
    }

    @Test func aGarbledIndexOnlyCostsAReadOfTheSession() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("garbled")
            let message = ChatMessage(id: "m", role: .user, content: "m")
            try await chat.append(message)
            try await chat.append(contentsOf: storeTestTurns(2))
            // Longer than the session: stale, rebuilt from the session.
            try await store.redis().send("RPUSH", Self.index(of: chat), "a", "b", "c", "d")
            #expect(try await chat.append(message).appended == 0)
            #expect(try await Self.ids(of: chat, store).count == 3)
        }
    }

    /// Random appends, retries and batches give the same results over Redis (admin and least
    /// privilege) as over the embedded store, whose append reads the entries themselves.
    @Test(arguments: 0..<6)
    func appendsMatchTheEmbeddedStore(seed: UInt64) async throws {
        var random = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        let window = [0, 1, 3, 16][Int(seed) % 4]
        let cap = [nil, 1, 4, 30, nil, 7][Int(seed) % 6]
        let adjust: (inout ChatMemoryConfiguration) -> Void = {
            $0.idempotencyWindow = window
            $0.maxMessages = cap
            $0.timeToLive = seed.isMultiple(of: 2) ? .seconds(86_400) : nil
            $0.tokenCounter = ApproximateTokenCounter()
        }
        try await withStore(.embedded, adjust) { embedded in
            try await withStore(.redis, adjust) { redis in
                try await withStore(.leastPrivilege, adjust) { leastPrivilege in
                    let chats = [embedded, redis, leastPrivilege].map { $0.memory.session("random") }
                    var batches: [[String]] = []
                    var next = 0
                    for step in 0..<150 {
                        var ids: [String]
                        switch random.next() % 4 {
                        case 0, 1:
                            let size = random.next() % 3 == 0 ? Int(random.next() % 25) + 2 : 1
                            ids = (0..<size).map { _ in next += 1; return "m\(next)" }
                        case 2 where !batches.isEmpty:
                            ids = batches[batches.count - 1 - Int(random.next() % UInt64(min(batches.count, 20)))]
                        default:
                            // Old and new ids mixed, some repeated.
                            let known = batches.flatMap { $0 }
                            ids = (0..<Int(random.next() % 6) + 1).map { _ in
                                if !known.isEmpty && random.next() % 2 == 0 { return known[known.count - 1 - Int(random.next() % UInt64(min(known.count, 40)))] }
                                next += 1
                                return "m\(next)"
                            }
                        }
                        batches.append(ids)
                        let messages = ids.map { ChatMessage(id: $0, role: .user, content: "\($0) at \(step)") }
                        var results: [AppendResult] = []
                        for chat in chats { results.append(try await chat.append(contentsOf: messages)) }
                        #expect(results[1] == results[0] && results[2] == results[0], "step \(step), ids \(ids)")
                    }
                    let stored = try await chats[0].all().map(\.id)
                    #expect(try await chats[1].all().map(\.id) == stored)
                    #expect(try await chats[2].all().map(\.id) == stored)
                }
            }
        }
    }

    // MARK: - Helpers

    static func index(of chat: ChatSession) -> [UInt8] { RedisChatStorage.indexKey(of: chat.key) }

    /// The index's ids, newest first.
    static func ids(of chat: ChatSession, _ store: StoreUnderTest) async throws -> [String] {
        try await store.redis().send("LRANGE", index(of: chat), 0, -1).array?.compactMap(\.string) ?? []
    }
}

