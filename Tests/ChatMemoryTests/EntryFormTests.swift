import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory
import TestSupport

/// A session written partly in the object form (by a version before the compact form, or by
/// another worker still running one) and partly in the compact form reads, retries and edits
/// as one.
@Suite struct EntryFormTests {
    /// Pushes messages as the object form, oldest first, as an older version's append would.
    static func pushObjectForm(_ messages: [ChatMessage], to chat: ChatSession, _ store: StoreUnderTest) async throws {
        let counter = ChatMemoryConfiguration().tokenCounter
        for message in messages {
            var bytes = StoredEntry.idPrefix(of: message.id) + Array(#""v":1,"tokens":\#(counter.count(message)),"counter":"#.utf8)
            EntryJSON.writeString(counter.identifier, to: &bytes)
            bytes += StoredEntry.messageSuffix(of: message)
            try await store.redis().send("LPUSH", chat.key, bytes)
        }
    }

    @Test func aMixedSessionReadsRetriesAndEditsAsOne() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("mixed")
            let old = storeTestTurns(3, label: "old")
            try await Self.pushObjectForm(old, to: chat, store)
            // No id index yet: the append reads the object-form entries' ids.
            #expect(try await chat.append(old[1]).appended == 0)
            let new = storeTestTurns(2, label: "new")
            try await chat.append(contentsOf: new)
            #expect(try await chat.all() == old + new)
            let raw = try await store.redis().send("LRANGE", chat.key, 0, -1).array?.compactMap(\.string) ?? []
            #expect(raw.prefix(2).allSatisfy { $0.hasPrefix("[") } && raw.suffix(3).allSatisfy { $0.hasPrefix("{") })
            // Retries of either form are no-ops, one message or a batch, through the index.
            #expect(try await chat.append(old[0]).appended == 0)
            #expect(try await chat.append(contentsOf: [old[2], new[0]]).appended == 0)
            #expect(try await chat.window(tokenLimit: 100_000).messages == old + new)

            // Editing: the newest in the object form is recognised, and an anchor in it found.
            let editable = store.memory.session("mixed-editing")
            try await Self.pushObjectForm(old, to: editable, store)
            let reply = ChatMessage.assistant("regenerated")
            let outcome = try await editable.replace(after: old[1].id, ifNewestIs: old[2], with: [reply])
            #expect(outcome == .applied(removed: 1, appended: AppendResult(appended: 1, duplicates: 0, length: 3)))
            #expect(try await editable.all() == [old[0], old[1], reply])
            // And one in the compact form.
            #expect(try await editable.truncate(after: old[0].id, ifNewestIs: reply).isApplied)
            #expect(try await editable.all() == [old[0]])
        }
    }
}
