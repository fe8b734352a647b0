import Foundation
import ChatMemoryRedis
import Synchronization
import Testing
@testable import ChatMemory

/// `respond(to:)`: one user turn, one model call and one stored reply, however many duplicates
/// of the turn arrive at once, on every store.
@Suite struct StoreTurnTests {
    /// A model that counts its calls and answers with the newest message's text.
    final class CountingModel: Sendable {
        let calls = Atomic<Int>(0)
        /// Throws on the calls whose number (from 1) is in this set.
        let failing: Set<Int>

        init(failing: Set<Int> = []) { self.failing = failing }

        struct Failure: Error {}

        func reply(_ window: ChatWindow) async throws -> ChatMessage {
            let call = calls.add(1, ordering: .relaxed).newValue
            // Gives duplicates time to arrive while this call holds the turn (not an assertion).
            try await Task.sleep(for: .milliseconds(50))
            if failing.contains(call) { throw Failure() }
            return ChatMessage(role: .assistant, content: "answer to \(window.messages.last?.content ?? "")", metadata: ["call": "\(call)"])
        }
    }

    private static func question(_ id: String) -> ChatMessage {
        ChatMessage(id: id, role: .user, content: "question \(id)")
    }

    @Test(arguments: StoreKind.allCases)
    func sixteenConcurrentDuplicatesCallTheModelOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Four workers: four memories with clients of their own where the store is Redis.
            var workers = [store.memory]
            var clients: [RedisClient] = []
            if kind == .redis {
                var configuration = ChatMemoryConfiguration()
                configuration.keyPrefix = store.prefix
                for _ in 0..<3 {
                    let client = RedisClient(configuration: try storeTestRedisConfiguration())
                    clients.append(client)
                    workers.append(try RedisChatMemory(client: client, configuration: configuration))
                }
            }
            let model = CountingModel()
            let turn = Self.question("q1")
            let replies = try await withThrowingTaskGroup(of: TurnReply.self) { group in
                for duplicate in 0..<16 {
                    let chat = workers[duplicate % workers.count].session("turns")
                    group.addTask { try await chat.respond(to: turn, tokenLimit: 1_000, model: model.reply) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for client in clients { await client.shutdown() }
            #expect(model.calls.load(ordering: .relaxed) == 1)
            #expect(replies.filter(\.generated).count == 1)
            #expect(Set(replies.map(\.reply)).count == 1)
            let reply = try #require(replies.first?.reply)
            #expect(reply.id == "q1" + ChatSession.replySuffix && reply.role == .assistant && reply.metadata["reply_to"] == "q1")
            #expect(reply.content == "answer to question q1")
            let stored = try await store.memory.session("turns").all()
            #expect(stored.map(\.id) == ["q1", "q1:reply"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRetryReturnsTheStoredReplyAndAFailedCallLetsTheNextOneAnswer(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("retries")
            let model = CountingModel(failing: [1])
            await #expect(throws: CountingModel.Failure.self) {
                try await chat.respond(to: Self.question("q1"), tokenLimit: 1_000, model: model.reply)
            }
            // The failed call stored the question, no reply, and let the lease go.
            #expect(try await chat.all().map(\.id) == ["q1"])
            let answered = try await chat.respond(to: Self.question("q1"), tokenLimit: 1_000, model: model.reply)
            #expect(answered.generated && answered.reply.metadata["call"] == "2")
            #expect(answered.window?.messages.map(\.id) == ["q1"])
            let retried = try await chat.respond(to: Self.question("q1"), tokenLimit: 1_000, model: model.reply)
            #expect(!retried.generated && retried.reply == answered.reply && retried.window == nil)
            // The next turn sees the whole conversation.
            let next = try await chat.respond(to: Self.question("q2"), tokenLimit: 1_000, model: model.reply)
            #expect(next.window?.messages.map(\.id) == ["q1", "q1:reply", "q2"])
            #expect(model.calls.load(ordering: .relaxed) == 3)
            #expect(try await chat.all().map(\.id) == ["q1", "q1:reply", "q2", "q2:reply"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aReplyCannotBeForgedAndBadInputIsATypedError(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("forged")
            let model = CountingModel()
            await #expect(throws: ChatMemoryError.invalidMessage("a user message's id must not end with \":reply\" (the ids of replies)")) {
                try await chat.respond(to: Self.question("q1:reply"), tokenLimit: 1_000, model: model.reply)
            }
            await #expect(throws: ChatMemoryError.invalidMessage("respond(to:) answers a user message (got assistant)")) {
                try await chat.respond(to: ChatMessage(id: "a", role: .assistant, content: "x"), tokenLimit: 1_000, model: model.reply)
            }
            await #expect(throws: ChatMemoryError.self) {
                try await chat.respond(to: Self.question("q0"), tokenLimit: 1_000, leaseDuration: .zero, model: model.reply)
            }
            // An assistant message with the reply's id that does not name the turn is not its reply.
            try await chat.append(ChatMessage(id: "q2:reply", role: .assistant, content: "planted"))
            await #expect(throws: ChatMemoryError.replyConflict(messageID: "q2")) {
                try await chat.respond(to: Self.question("q2"), tokenLimit: 1_000, model: model.reply)
            }
            // A model that answers as the user is refused, and nothing of it is stored.
            await #expect(throws: ChatMemoryError.invalidMessage("the model's reply must be an assistant message (got user)")) {
                try await chat.respond(to: Self.question("q3"), tokenLimit: 1_000) { _ in ChatMessage(role: .user, content: "me") }
            }
            #expect(model.calls.load(ordering: .relaxed) == 0)
            #expect(try await chat.all().map(\.id) == ["q2:reply", "q2", "q3"])
        }
    }

    /// A worker that died holding the turn's lease: a duplicate waits until the lease ends, then
    /// answers the turn itself.
    @Test func aLeaseLeftByADeadWorkerEndsAndADuplicateAnswers() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("dead-worker")
            let lease = ChatSession.leaseKey(of: chat.key) + Array(":turn:q1".utf8)
            try await store.redis().send("SET", lease, "dead-worker", "PX", 300)
            let model = CountingModel()
            let answered = try await chat.respond(to: Self.question("q1"), tokenLimit: 1_000, model: model.reply)
            #expect(answered.generated && model.calls.load(ordering: .relaxed) == 1)
            #expect(try await store.redis().send("EXISTS", lease) == .integer(0))
        }
    }

    /// A turn whose task is cancelled while the model runs lets its lease go at once (its own
    /// requests are refused once cancelled), so a retry does not wait for the lease to end.
    @Test func aCancelledTurnLetsItsLeaseGo() async throws {
        try await withStore(.redis) { (store: StoreUnderTest) async throws in
            let chat = store.memory.session("cancelled")
            let (entered, signal) = AsyncStream<Void>.makeStream()
            let turn = Task {
                try await chat.respond(to: Self.question("q1"), tokenLimit: 1_000) { _ in
                    signal.yield()
                    try await Task.sleep(for: .seconds(3600))
                    return ChatMessage(role: .assistant, content: "never")
                }
            }
            for await _ in entered { break }
            let lease = ChatSession.leaseKey(of: chat.key) + Array(":turn:q1".utf8)
            #expect(try await store.redis().send("EXISTS", lease) == .integer(1))
            turn.cancel()
            await #expect(throws: CancellationError.self) { try await turn.value }
            #expect(try await store.redis().send("EXISTS", lease) == .integer(0))
        }
    }

    @Test func aTurnNeedsAnIdempotencyWindow() async throws {
        try await withStore(.embedded, { $0.idempotencyWindow = 0 }) { (store: StoreUnderTest) async throws in
            let error = await #expect(throws: ChatMemoryError.self) {
                try await store.memory.session("no-window").respond(to: Self.question("q1"), tokenLimit: 1_000, model: CountingModel().reply)
            }
            #expect(error?.code == .invalidConfiguration)
            #expect(try await store.memory.session("no-window").count() == 0)
        }
    }
}
