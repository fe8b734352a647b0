import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory

/// `refreshesTimeToLiveOnRead`: a read sets the session (and its id index) to expire the whole
/// `timeToLive` from then; a missing session stays missing.
@Suite struct StoreSlidingExpiryTests {
    private static func sliding(_ configuration: inout ChatMemoryConfiguration) {
        configuration.timeToLive = .seconds(3600)
        configuration.refreshesTimeToLiveOnRead = true
    }

    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func everyReadRefreshesTheSessionAndItsIndex(kind: StoreKind) async throws {
        try await withStore(kind, Self.sliding) { store in
            let chat = store.memory.session("sliding")
            try await chat.append(contentsOf: storeTestTurns(3))
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let index = RedisChatStorage.indexKey(of: chat.key)
            let reads: [(String, @Sendable () async throws -> Void)] = [
                ("window", { _ = try await chat.window(tokenLimit: 1_000) }),
                ("recent", { _ = try await chat.recent(2) }),
                ("all", { _ = try await chat.all() }),
                ("inspect", { _ = try await chat.inspect() }),
            ]
            for (name, read) in reads {
                for key in [chat.key, index] { try await admin.send("PEXPIRE", key, 100_000) }
                try await read()
                for key in [chat.key, index] {
                    let left = try #require(try await admin.send("PTTL", key).int)
                    #expect(left > 1_000_000, "\(name) left \(String(decoding: key, as: UTF8.self)) with \(left) ms")
                }
            }
            // A read of a session that does not exist creates nothing.
            let missing = store.memory.session("missing")
            #expect(try await missing.window(tokenLimit: 1_000).messages.isEmpty)
            #expect(try await admin.send("EXISTS", missing.key, RedisChatStorage.indexKey(of: missing.key)) == .integer(0))
            await admin.shutdown()
        }
    }

    @Test func theEmbeddedStoreRefreshesToo() async throws {
        let storage = EmbeddedChatStorage()
        var configuration = ChatMemoryConfiguration()
        Self.sliding(&configuration)
        let chat = try RedisChatMemory(storage: storage, configuration: configuration).session("sliding")
        try await chat.append(contentsOf: storeTestTurns(2))
        storage.withLists { storage.lists[chat.key]?.expires = .now + .seconds(100) }
        _ = try await chat.recent(1)
        #expect(try #require(try await chat.timeToLive()) > .seconds(1_000))
        _ = try await chat.window(tokenLimit: 1_000)
        #expect(try await RedisChatMemory(storage: storage, configuration: configuration).session("missing").all().isEmpty)
        #expect(try await storage.length(Array("chat:missing".utf8), logger: .init(label: "test")) == 0)
    }

    @Test func itNeedsATimeToLiveAndAStoreThatCanRefresh() async throws {
        var configuration = ChatMemoryConfiguration()
        configuration.refreshesTimeToLiveOnRead = true
        #expect(throws: ChatMemoryError.invalidConfiguration("refreshesTimeToLiveOnRead needs a timeToLive to refresh")) {
            try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration)
        }
        configuration.timeToLive = .seconds(60)
        let error = #expect(throws: ChatMemoryError.self) {
            try RedisChatMemory(storage: DictionaryStorage(), configuration: configuration)
        }
        #expect(error?.code == .unsupportedByStorage)
    }
}
