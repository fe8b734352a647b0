import Foundation
import Logging
import Testing
@testable import ChatMemory

/// `sessions()` is read from the storage batch by batch as it is iterated.
@Suite struct SessionListingTests {
    /// Counts the listing batches a memory asks its storage for, and the keys they hold.
    final class ListingSpy: ChatStorage, @unchecked Sendable {
        let base: any ChatStorage
        private let lock = NSLock()
        private var batches = 0
        private var keys = 0

        init(base: any ChatStorage) { self.base = base }

        var counts: (batches: Int, keys: Int) { lock.withLock { (batches, keys) } }

        func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
            try await base.append(entries, to: key, policy: policy, logger: logger)
        }
        func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] { try await base.range(key, start: start, stop: stop, logger: logger) }
        func length(_ key: [UInt8], logger: Logger) async throws -> Int { try await base.length(key, logger: logger) }
        func delete(_ key: [UInt8], logger: Logger) async throws -> Bool { try await base.delete(key, logger: logger) }
        func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? { try await base.timeToLive(key, logger: logger) }
        func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
            let batch = try await base.keys(withPrefix: prefix, cursor: cursor)
            lock.withLock { batches += 1; keys += batch.keys.count }
            return batch
        }
    }

    /// `count` sessions with one message each, appended 100 at a time in parallel.
    static func fill(_ memory: RedisChatMemory, _ count: Int) async throws -> [SessionID] {
        let ids = try (0..<count).map { try SessionID("user-\($0)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for chunk in stride(from: 0, to: ids.count, by: 100) {
                group.addTask {
                    for id in ids[chunk..<min(chunk + 100, ids.count)] { try await memory.session(id).append(.user("x")) }
                }
            }
            try await group.waitForAll()
        }
        return ids
    }

    /// The same memory as `store`'s, over a spy of its storage.
    static func spied(_ store: StoreUnderTest) throws -> (RedisChatMemory, ListingSpy) {
        let probe = store.memory.session("probe")
        let spy = ListingSpy(base: probe.storage)
        return (try RedisChatMemory(storage: spy, configuration: probe.configuration), spy)
    }

    @Test(arguments: StoreKind.allCases)
    func theListingIsReadLazilyInBatches(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ids = try await Self.fill(store.memory, 2500)
            let (memory, spy) = try Self.spied(store)

            var firstFew: [SessionID] = []
            for try await id in memory.sessions() {
                firstFew.append(id)
                if firstFew.count == 5 { break }
            }
            #expect(firstFew.count == 5)
            #expect(Set(firstFew).isSubset(of: Set(ids)))
            let early = spy.counts
            #expect(early.batches >= 1)
            #expect(early.keys < ids.count, "stopping early must not have fetched every key (\(early.keys))")

            #expect(Set(try await memory.sessions().collected()) == Set(ids))
            let full = spy.counts
            #expect(full.batches - early.batches > 1, "2,500 sessions take more than one batch")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sessionsRemovedDuringTheListingDoNotHideTheOthers(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ids = try await Self.fill(store.memory, 2500)
            let kept = Set(ids.enumerated().filter { $0.offset.isMultiple(of: 3) }.map(\.element))
            let removed = ids.filter { !kept.contains($0) }
            var seen = Set<SessionID>()
            for try await id in store.memory.sessions() {
                if seen.isEmpty {
                    // Two thirds of the sessions go away after the first batch was read.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for chunk in stride(from: 0, to: removed.count, by: 100) {
                            group.addTask {
                                for id in removed[chunk..<min(chunk + 100, removed.count)] { try await store.memory.delete(id) }
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                seen.insert(id)
            }
            #expect(kept.isSubset(of: seen))
            #expect(Set(try await store.memory.sessions().collected()) == kept)
        }
    }

    @Test func embeddedListingRefusesACursorItDidNotMake() async throws {
        let storage = EmbeddedChatStorage()
        await #expect(throws: ChatMemoryError.unexpectedReply("not-a-number is not a cursor of this storage")) {
            _ = try await storage.keys(withPrefix: [], cursor: "not-a-number")
        }
        let empty = try await storage.keys(withPrefix: [], cursor: nil)
        #expect(empty.keys.isEmpty && empty.next == nil)
    }
}
