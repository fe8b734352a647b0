import Logging
import ChatMemory
import Testing

/// A backend written against the public API only (no `@testable`), as a user would: an actor
/// over a dictionary, listing two keys per batch. (It keeps no time to live.)
actor DictionaryStorage: ChatStorage {
    private var lists: [[UInt8]: [[UInt8]]] = [:]   // newest first

    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) -> AppendResult {
        var list = lists[key] ?? []
        let (fresh, duplicates) = policy.select(entries, newestStored: list)
        list.insert(contentsOf: fresh.reversed(), at: 0)
        if let cap = policy.maxLength, list.count > cap { list.removeLast(list.count - cap) }
        lists[key] = list.isEmpty ? nil : list
        return AppendResult(appended: fresh.count, duplicates: duplicates, length: list.count)
    }

    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) -> [[UInt8]] {
        let list = lists[key] ?? []
        let first = max(0, start < 0 ? list.count + start : start)
        let last = min(list.count - 1, stop < 0 ? list.count + stop : stop)
        return first <= last ? Array(list[first...last]) : []
    }

    func length(_ key: [UInt8], logger: Logger) -> Int { lists[key]?.count ?? 0 }

    func delete(_ key: [UInt8], logger: Logger) -> Bool { lists.removeValue(forKey: key) != nil }

    func timeToLive(_ key: [UInt8], logger: Logger) -> Duration? { nil }

    func keys(withPrefix prefix: [UInt8], cursor: String?) -> (keys: [[UInt8]], next: String?) {
        let all = lists.keys.filter { $0.starts(with: prefix) }.sorted { $0.lexicographicallyPrecedes($1) }
        let after = cursor.map { Array($0.utf8) }
        let rest = all.drop { key in after.map { !$0.lexicographicallyPrecedes(key) } ?? false }
        let batch = Array(rest.prefix(2))
        return (batch, rest.count > 2 ? batch.last.map { String(decoding: $0, as: UTF8.self) } : nil)
    }
}

@Suite struct CustomStorageTests {
    @Test func aBackendOfYourOwnRunsTheSameMemory() async throws {
        var configuration = ChatMemoryConfiguration()
        configuration.maxMessages = 3
        configuration.tokenCounter = ApproximateTokenCounter()
        let memory = try RedisChatMemory(storage: DictionaryStorage(), configuration: configuration)
        let chat = memory.session("s")
        let turns = (0..<4).map { ChatMessage(id: "m\($0)", role: $0.isMultiple(of: 2) ? .user : .assistant, content: "turn \($0)") }
        #expect(try await chat.append(contentsOf: turns) == AppendResult(appended: 4, duplicates: 0, length: 3))
        // A retry is a no-op even though the cap trimmed the batch's oldest message.
        #expect(try await chat.append(contentsOf: turns) == AppendResult(appended: 0, duplicates: 4, length: 3))
        #expect(try await chat.all().map(\.id) == ["m1", "m2", "m3"])
        #expect(try await chat.window(tokenLimit: 1_000).messages.map(\.id) == ["m1", "m2", "m3"])

        for name in ["a", "b", "c", "d", "e"] { try await memory.session(try SessionID(name)).append(.user(name)) }
        var listed: [SessionID] = []
        for try await id in memory.sessions() { listed.append(id) }
        #expect(listed == ["a", "b", "c", "d", "e", "s"])
        #expect(try await memory.delete("s"))
        #expect(try await chat.count() == 0)
    }
}
