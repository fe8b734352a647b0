import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory

/// Conditional appends and rewrites of a session's newest messages (regenerate, edit): each acts
/// only on the newest message its caller saw, in one atomic step, on every store.
@Suite struct StoreEditingTests {
    private static func message(_ id: String, _ role: ChatMessage.Role = .user) -> ChatMessage {
        ChatMessage(id: id, role: role, content: "text of \(id)")
    }

    private static func ids(_ chat: ChatSession) async throws -> [String] {
        try await chat.all().map(\.id)
    }

    @Test(arguments: StoreKind.allCases)
    func aConditionalAppendStoresOnlyOnTheNewestMessageItSaw(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("conditional")
            let (m1, m2, m3) = (Self.message("m1"), Self.message("m2"), Self.message("m3"))
            #expect(try await chat.append(m1, ifNewestIs: nil).isApplied)
            #expect(try await chat.append(m2, ifNewestIs: nil) == .newestChanged(newest: m1))
            let applied = try await chat.append(m2, ifNewestIs: m1)
            #expect(applied == .applied(removed: 0, appended: AppendResult(appended: 1, duplicates: 0, length: 2)))
            // A retry of the call that went through names its own message.
            #expect(try await chat.append(m2, ifNewestIs: m1) == .newestChanged(newest: m2))
            #expect(try await chat.append(m3, ifNewestIs: m1) == .newestChanged(newest: m2))
            // The newest message as read from the session matches too.
            let read = try #require(try await chat.recent(1).first)
            // Ids the session holds are skipped, as by a plain append.
            let batch = try await chat.append(contentsOf: [m1, m3], ifNewestIs: read)
            #expect(batch == .applied(removed: 0, appended: AppendResult(appended: 1, duplicates: 1, length: 3)))
            #expect(try await Self.ids(chat) == ["m1", "m2", "m3"])
        }
    }

    /// A message removed and stored again with the same id (a regenerated reply) is not the one
    /// a caller saw before: no ABA.
    @Test(arguments: StoreKind.allCases)
    func aMessageStoredAgainWithTheSameIdIsNotTheOneSeen(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("aba")
            let question = Self.message("u1")
            let first = ChatMessage(id: "u1:reply", role: .assistant, content: "first answer")
            try await chat.append(contentsOf: [question, first])
            // Worker B regenerates: the new answer has the same id.
            let second = ChatMessage(id: "u1:reply", role: .assistant, content: "second answer")
            #expect(try await chat.replace(after: "u1", ifNewestIs: first, with: [second]).isApplied)
            // Worker C still holds the first answer: its regenerate must not remove B's.
            let third = ChatMessage(id: "u1:reply", role: .assistant, content: "third answer")
            #expect(try await chat.replace(after: "u1", ifNewestIs: first, with: [third]) == .newestChanged(newest: second))
            #expect(try await chat.all().map(\.content) == ["text of u1", "second answer"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func truncateRemovesOnlyWhatIsNewerThanTheMessageKept(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("regenerate")
            let (u1, a1, u2, a2) = (Self.message("u1"), Self.message("a1", .assistant), Self.message("u2"), Self.message("a2", .assistant))
            try await chat.append(contentsOf: [u1, a1, u2, a2])
            #expect(try await chat.truncate(after: "u2", ifNewestIs: a1) == .newestChanged(newest: a2))
            #expect(try await chat.truncate(after: "gone", ifNewestIs: a2) == .anchorNotFound)
            #expect(try await Self.ids(chat) == ["u1", "a1", "u2", "a2"])
            let truncated = try await chat.truncate(after: "u2", ifNewestIs: a2)
            #expect(truncated == .applied(removed: 1, appended: AppendResult(appended: 0, duplicates: 0, length: 3)))
            #expect(try await Self.ids(chat) == ["u1", "a1", "u2"])
            // The removed reply's id is not held any more: the regenerated reply may reuse it.
            let regenerated = Self.message("a2", .assistant)
            #expect(try await chat.append(regenerated).appended == 1)
            #expect(try await chat.append(regenerated).appended == 0)
            #expect(try await Self.ids(chat) == ["u1", "a1", "u2", "a2"])
            // Truncating after the newest message removes nothing; the anchor may be far back.
            #expect(try await chat.truncate(after: "a2", ifNewestIs: regenerated) == .applied(removed: 0, appended: AppendResult(appended: 0, duplicates: 0, length: 4)))
            let later = storeTestTurns(40, label: "later")
            try await chat.append(contentsOf: later)
            let removed = try await chat.truncate(after: "u1", ifNewestIs: try #require(later.last))
            #expect(removed == .applied(removed: 43, appended: AppendResult(appended: 0, duplicates: 0, length: 1)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func replaceEditsAMessageAndDropsWhatFollowedIt(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .seconds(3600) }) { store in
            let chat = store.memory.session("edit")
            let (u1, a1, u2, a2) = (Self.message("u1"), Self.message("a1", .assistant), Self.message("u2"), Self.message("a2", .assistant))
            try await chat.append(contentsOf: [u1, a1, u2, a2])
            // The user edits u2: it keeps its id, with new text.
            let edited = ChatMessage(id: "u2", role: .user, content: "edited")
            let outcome = try await chat.replace(after: "a1", ifNewestIs: a2, with: [edited])
            #expect(outcome == .applied(removed: 2, appended: AppendResult(appended: 1, duplicates: 0, length: 3)))
            let messages = try await chat.all()
            #expect(messages.map(\.id) == ["u1", "a1", "u2"] && messages.last?.content == "edited")
            #expect(try await chat.timeToLive() != nil)
            // After nothing: the whole session is replaced.
            let fresh = Self.message("fresh")
            #expect(try await chat.replace(after: nil, ifNewestIs: edited, with: [fresh]).isApplied)
            #expect(try await Self.ids(chat) == ["fresh"])
            // With nothing to append, the session is gone.
            #expect(try await chat.replace(after: nil, ifNewestIs: fresh, with: []).isApplied)
            #expect(try await chat.count() == 0)
            #expect(try await chat.append(Self.message("again"), ifNewestIs: nil).isApplied)
        }
    }

    /// With no idempotency window a rewrite still leaves no index naming a dropped message, for
    /// writers that do use one.
    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aRewriteWithoutAWindowLeavesNoIndexNamingADroppedMessage(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("mixed-windows")
            let (m1, m2, m3) = (Self.message("m1"), Self.message("m2"), Self.message("m3"))
            try await chat.append(contentsOf: [m1, m2, m3])
            var noWindow = ChatMemoryConfiguration()
            noWindow.keyPrefix = store.prefix
            noWindow.idempotencyWindow = 0
            let other = try RedisChatMemory(client: try store.redis(), configuration: noWindow).session("mixed-windows")
            #expect(try await other.truncate(after: "m2", ifNewestIs: m3).isApplied)
            try await other.append(Self.message("m4"))
            #expect(try await chat.append(m3).appended == 1)
            #expect(try await Self.ids(chat) == ["m1", "m2", "m4", "m3"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badInputIsATypedErrorWithNothingWritten(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessageBytes = 1_000 }) { store in
            let chat = store.memory.session("bad-input")
            let m1 = Self.message("m1")
            try await chat.append(m1)
            await #expect(throws: ChatMemoryError.invalidMessage("the newest message's id must not be empty")) {
                try await chat.append(Self.message("m2"), ifNewestIs: Self.message(""))
            }
            await #expect(throws: ChatMemoryError.invalidMessage("the message to keep needs a non-empty id")) {
                try await chat.truncate(after: "", ifNewestIs: m1)
            }
            let tooLarge = await #expect(throws: ChatMemoryError.self) {
                try await chat.replace(after: nil, ifNewestIs: m1, with: [ChatMessage(id: "big", role: .user, content: String(repeating: "x", count: 2_000))])
            }
            #expect(tooLarge?.code == .messageTooLarge && tooLarge?.messageID == "big")
            await #expect(throws: ChatMemoryError.invalidMessage("a message needs a non-empty id")) {
                try await chat.append(ChatMessage(id: "", role: .user, content: "x"), ifNewestIs: m1)
            }
            #expect(try await Self.ids(chat) == ["m1"])
        }
    }

    @Test func aKeyOfAnotherTypeIsATypedErrorAndLeftAlone() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("not-a-list")
            try await store.redis().send("SET", chat.key, "someone else's")
            await #expect(throws: ChatMemoryError.wrongKeyType(key: String(decoding: chat.key, as: UTF8.self))) {
                try await chat.append(Self.message("m1"), ifNewestIs: nil)
            }
            #expect(try await store.redis().send("GET", chat.key) == .bulkString(Array("someone else's".utf8)))
            try await store.redis().send("DEL", chat.key)
        }
    }

    /// Two workers regenerate the newest message while two append: every regenerate that
    /// applies removed exactly the newest message it saw, no two apply on the same one, and
    /// every other message is there once, in its appender's order.
    @Test(arguments: [StoreKind.redis, .embedded])
    func regeneratorsAndAppendersNeverLoseOrDuplicateAMessage(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("race")
            try await chat.append(contentsOf: [Self.message("seed-1"), Self.message("seed-2")])
            let rounds = 40
            let regenerations = try await withThrowingTaskGroup(of: [(seen: String, reply: String)].self) { group in
                for appender in 0..<2 {
                    group.addTask {
                        for turn in 0..<rounds { try await chat.append(Self.message("append-\(appender)-\(turn)")) }
                        return []
                    }
                }
                for regenerator in 0..<2 {
                    group.addTask {
                        var applied: [(seen: String, reply: String)] = []
                        for turn in 0..<rounds {
                            let newest = try await chat.recent(2)
                            guard newest.count == 2 else { continue }
                            let reply = "reply-\(regenerator)-\(turn)"
                            let outcome = try await chat.replace(after: newest[0].id, ifNewestIs: newest[1], with: [Self.message(reply, .assistant)])
                            if outcome.isApplied { applied.append((newest[1].id, reply)) }
                        }
                        return applied
                    }
                }
                var all: [(seen: String, reply: String)] = []
                for try await applied in group { all += applied }
                return all
            }
            let removed = regenerations.map(\.seen)
            #expect(Set(removed).count == removed.count, "two regenerations applied on the same newest message")
            let stored = try await Self.ids(chat)
            #expect(Set(stored).count == stored.count, "a message is stored twice")
            let appended = (0..<2).flatMap { appender in (0..<rounds).map { "append-\(appender)-\($0)" } }
            let expected = Set(["seed-1", "seed-2"] + appended + regenerations.map(\.reply)).subtracting(removed)
            #expect(Set(stored) == expected)
            for appender in 0..<2 {
                let order = stored.filter { $0.hasPrefix("append-\(appender)-") }
                #expect(order == appended.filter { $0.hasPrefix("append-\(appender)-") && !removed.contains($0) })
            }
        }
    }
}
