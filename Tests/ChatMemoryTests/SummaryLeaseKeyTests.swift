import Foundation
import Testing
import ChatMemoryRedis
@testable import ChatMemory

/// The compaction lease is a key of its own, which the least-privilege rules cover.
@Suite struct SummaryLeaseKeyTests {
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func theLeaseIsItsOwnKeyCoveredByTheACLRules(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter(); $0.idempotencyWindow = 0 }) { store in
            let chat = store.memory.session("a{b}*")
            try await chat.append(contentsOf: storeTestTurns(6))
            let stalled = StalledSummarizer()
            let compaction = Task { try await chat.compact(targetTokens: 0, summarizer: stalled) }
            await stalled.waitUntilEntered()
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            #expect(try await admin.send("EXISTS", ChatSession.leaseKey(of: chat.key)).int == 1)
            #expect(try await store.memory.sessions().collected() == [chat.id])
            stalled.release()
            #expect(try await compaction.value.outcome == .compacted)
            #expect(try await admin.send("EXISTS", ChatSession.leaseKey(of: chat.key)).int == 0)
            await admin.shutdown()
        }
        #expect(RedisChatMemory.aclRules(keyPrefix: "c*:").contains(#"~lease:c\*:*"#))
    }
}
