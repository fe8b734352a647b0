import ChatMemory
import ChatMemoryRedis
import Foundation
import Testing

/// The opt-in durability setting: an append waits for replicas (`WAIT`) and says when too few
/// confirmed. Against the Sentinel group Scripts/test.sh starts (a primary with 2 replicas) and
/// the single test server (no replicas).
@Suite struct ReplicationTests {
    private func sentinelClient() throws -> RedisClient {
        guard let url = ProcessInfo.processInfo.environment["REDIS_SENTINEL_URL"], !url.isEmpty,
              let password = ProcessInfo.processInfo.environment["TEST_SENTINEL_PASSWORD"] else {
            throw StoreTestServerMissing()
        }
        var configuration = try RedisConfiguration.fromEnvironment(["REDIS_URL": url, "REDIS_SENTINEL_PASSWORD": password])
        configuration.commandTimeout = .seconds(60)
        return RedisClient(configuration: configuration)
    }

    private func memory(_ client: RedisClient, replicas: Int) throws -> RedisChatMemory {
        var settings = ChatMemoryConfiguration()
        settings.keyPrefix = "test:replication:\(UUID().uuidString):"
        settings.replication = .init(replicas: replicas, timeout: .milliseconds(300))
        return try RedisChatMemory(client: client, configuration: settings)
    }

    @Test func anAppendReturnsOnceTheReplicasHoldIt() async throws {
        let client = try sentinelClient()
        defer { Task { await client.shutdown() } }
        let chat = try memory(client, replicas: 2).session("s")
        let result = try await chat.append(contentsOf: storeTestTurns(5))
        #expect(result.appended == 5)
        try await chat.clear()
    }

    @Test func tooFewReplicasIsATypedErrorAndTheRetryIsANoOp() async throws {
        let client = try sentinelClient()
        defer { Task { await client.shutdown() } }
        let chat = try memory(client, replicas: 3).session("s")
        let turns = storeTestTurns(4)
        for attempt in 1...2 {
            do {
                try await chat.append(contentsOf: turns)
                Issue.record("3 replicas confirmed, but the group has 2")
            } catch let error as ChatMemoryError {
                #expect(error.code == .replicationIncomplete)
                #expect(error.acknowledgedReplicas == 2 && error.requiredReplicas == 3, "attempt \(attempt): \(error)")
            }
            // Stored on the primary all the same, and only once.
            #expect(try await chat.all().map(\.id) == turns.map(\.id))
        }
        try await chat.clear()

        // A server without replicas: none confirm.
        let single = RedisClient(configuration: try storeTestRedisConfiguration())
        defer { Task { await single.shutdown() } }
        let lonely = try memory(single, replicas: 1).session("s")
        let error = await #expect(throws: ChatMemoryError.self) { try await lonely.append(.user("hi")) }
        #expect(error?.acknowledgedReplicas == 0)
        #expect(try await lonely.count() == 1)
        try await lonely.clear()
    }

    @Test func settingsOutOfRangeAreRefused() throws {
        let client = RedisClient(configuration: RedisConfiguration())   // never connects
        for replication in [ChatMemoryConfiguration.Replication(replicas: 0), .init(replicas: 101),
                            .init(timeout: .zero), .init(timeout: .seconds(3601)),
                            .init(timeout: .seconds(10))] {   // not shorter than the 10 s commandTimeout
            var settings = ChatMemoryConfiguration()
            settings.replication = replication
            let error = #expect(throws: ChatMemoryError.self, "\(replication)") { try RedisChatMemory(client: client, configuration: settings) }
            #expect(error?.code == .invalidConfiguration)
        }
        var settings = ChatMemoryConfiguration()
        settings.replication = .init()
        let error = #expect(throws: ChatMemoryError.self) { try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: settings) }
        #expect(error?.code == .invalidConfiguration)
    }
}
