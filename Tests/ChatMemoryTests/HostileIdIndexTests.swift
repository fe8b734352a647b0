import Foundation
@testable import ChatMemoryRedis
import Testing
@testable import ChatMemory

/// A hostile user's view of the append's id index: session ids full of hash-tag braces, the
/// longest ids, message ids that look like JSON, an index deleted under concurrent retries, and
/// a session id chosen to be another session's index key.
@Suite struct HostileIdIndexTests {
    static let braceIDs: [[UInt8]] = [
        Array("{".utf8), Array("}".utf8), Array("{}".utf8), Array("}{".utf8), Array("{a}".utf8), Array("{}{b}".utf8),
        Array("x{".utf8), Array("{{}}".utf8), Array(repeating: UInt8(ascii: "{"), count: 512),
        Array(repeating: UInt8(ascii: "}"), count: 512), Array("{".utf8) + Array(repeating: 0xFF, count: 510) + Array("}".utf8),
        (0..<512).map { UInt8(truncatingIfNeeded: $0) },
    ]

    /// The index shares its session's Redis Cluster slot, whatever braces the session key holds.
    @Test func theIndexIsInItsSessionsSlotForEveryBraceKey() {
        for id in Self.braceIDs {
            for prefix in ["", "chat:", "{", "}", "{p}", "ids:{"] {
                let key = Array(prefix.utf8) + id
                let index = RedisChatStorage.indexKey(of: key)
                #expect(HashSlot.of(index) == HashSlot.of(key), "\(prefix) + \(id.prefix(8))")
            }
        }
    }

    /// Sessions named with braces and 512-byte ids, and 512-byte message ids that look like JSON:
    /// a retry is a no-op, the others are stored once each.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func braceAndLongIDsKeepRetriesIdempotent(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let messageIDs = [String(repeating: "m", count: 512), #"a","role":"user"#, #"\"#, #"{"id":"x","#, "\u{0}\r\n", String(repeating: "é", count: 256)]
            for sessionBytes in Self.braceIDs {
                let chat = store.memory.session(try SessionID(bytes: sessionBytes))
                var stored: [String] = []
                for id in messageIDs {
                    let message = ChatMessage(id: id, role: .user, content: "c")
                    #expect(try await chat.append(message).appended == 1)
                    stored.append(id)
                    #expect(try await chat.append(ChatMessage(id: id, role: .user, content: "c")).appended == 0, "retry of \(id.prefix(10))")
                }
                #expect(try await chat.append(contentsOf: messageIDs.map { ChatMessage(id: $0, role: .user, content: "c") }).appended == 0)
                #expect(try await chat.all().map(\.id) == stored)
            }
        }
    }

    /// With the index deleted by hand, 20 concurrent retries of the same message store it once.
    @Test func concurrentRetriesAfterTheIndexIsDeletedStoreOnce() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("{retried}")
            let message = ChatMessage(id: "once", role: .user, content: "once")
            try await chat.append(message)
            try await chat.append(contentsOf: storeTestTurns(3))
            try await store.redis().send("DEL", RedisChatStorage.indexKey(of: chat.key))
            let appended = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await chat.append(ChatMessage(id: "once", role: .user, content: "once")).appended } }
                return try await group.reduce(0, +)
            }
            #expect(appended == 0)
            #expect(try await chat.all().filter { $0.id == "once" }.count == 1)
            try await store.redis().send("DEL", RedisChatStorage.indexKey(of: chat.key))
            try await store.redis().send("DEL", chat.key)
            let fresh = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await chat.append(ChatMessage(id: "once", role: .user, content: "once")).appended } }
                return try await group.reduce(0, +)
            }
            #expect(fresh == 1)
            #expect(try await chat.all().map(\.id) == ["once"])
        }
    }

    /// A hand-written index of another type under a brace session: reported, nothing written,
    /// the session's messages intact.
    @Test(arguments: ["SET", "HSET", "SADD", "ZADD", "XADD"])
    func anIndexOfAnotherTypeUnderABraceSessionLosesNothing(kind: String) async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session(try SessionID(bytes: Array("{}{x}".utf8)))
            try await chat.append(contentsOf: storeTestTurns(2))
            let index = RedisChatStorage.indexKey(of: chat.key)
            let redis = try store.redis()
            try await redis.send("DEL", index)
            switch kind {
            case "SET": try await redis.send("SET", index, "x")
            case "HSET": try await redis.send("HSET", index, "f", "v")
            case "SADD": try await redis.send("SADD", index, "m")
            case "ZADD": try await redis.send("ZADD", index, 1, "m")
            default: try await redis.send("XADD", index, "*", "f", "v")
            }
            await #expect(throws: (any Error).self) { try await chat.append(.user("refused")) }
            #expect(try await chat.all().count == 2)
            try await redis.send("DEL", index)
        }
    }

    /// A key prefix under which a session could be named like another session's id index (or
    /// compaction lease) is refused: with "" a session `ids:{T}victim` was unlinked as a stale
    /// index by an append to `victim`, losing acknowledged messages.
    @Test(arguments: ["", "i", "ids:", "ids:{", "ids:{abc}", "l", "lease:", "lease:chat:", "o", "owner:", "owner:{x}", "owner-info:{", "owner-info:{abc}chat:"])
    func aPrefixThatCouldNameTheStoresOwnKeysIsRefused(prefix: String) throws {
        var configuration = ChatMemoryConfiguration()
        configuration.keyPrefix = prefix
        let client = RedisClient(configuration: try storeTestRedisConfiguration())
        #expect(throws: ChatMemoryError.self) { _ = try RedisChatMemory(client: client, configuration: configuration) }
        for fine in ["chat:", "idsx:", "leases:", "{user}:", "owners:", "owner-infos:"] {
            configuration.keyPrefix = fine
            _ = try RedisChatMemory(client: client, configuration: configuration)
        }
    }
}
