import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory

@Suite struct StoreTests {
    @Test(arguments: StoreKind.allCases)
    func appendAndReadBack(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("round-trip")
            let call = ChatMessage.ToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Oslo"}"#)
            let messages = [
                ChatMessage(role: .system, content: "You are terse."),
                ChatMessage(role: .user, content: "Weather in Oslo?", name: "ana", metadata: ["lang": "en"]),
                ChatMessage(role: .assistant, content: "", toolCalls: [call]),
                ChatMessage(role: .tool, content: #"{"temp":-3}"#, toolCallID: "call_1"),
                ChatMessage(role: .assistant, content: "−3 °C, 🧊 \r\n %s \u{0}"),
            ]
            let first = try await chat.append(messages[0])
            #expect(first == AppendResult(appended: 1, duplicates: 0, length: 1))
            let rest = try await chat.append(contentsOf: Array(messages[1...]))
            #expect(rest == AppendResult(appended: 4, duplicates: 0, length: 5))
            #expect(try await chat.all() == messages)
            #expect(try await chat.recent(2) == Array(messages[3...]))
            #expect(try await chat.recent(0) == [])
            #expect(try await chat.recent(50) == messages)
            #expect(try await chat.count() == 5)
            #expect(try await chat.clear())
            #expect(try await chat.count() == 0)
            #expect(try await chat.all() == [])
            #expect(try await chat.clear() == false)
        }
    }

    /// Reads hand the session's entries to the decoder as they came: from Redis, views of one
    /// buffer per page (one copy of each entry, none per entry after it), from any other storage
    /// its arrays; the same entries either way.
    @Test(arguments: StoreKind.allCases)
    func readsDecodeEntriesWhereTheyCame(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("views")
            let messages = (0..<20).map { ChatMessage(role: $0.isMultiple(of: 2) ? .user : .assistant, content: String(repeating: "m\($0) ", count: $0 + 1)) }
            try await chat.append(contentsOf: messages)
            let entries = try await chat.storage.readEntries(chat.key, start: 0, stop: -1, logger: chat.logger)
            #expect(entries.map(\.array) == (try await chat.storage.range(chat.key, start: 0, stop: -1, logger: chat.logger)))
            #expect(entries.reversed().compactMap { StoredEntry.decode($0)?.message } == messages)
            if kind != .embedded {
                let spans = entries.map { entry in entry.withUnsafeBytes { (start: Int(bitPattern: $0.baseAddress), end: Int(bitPattern: $0.baseAddress) + $0.count) } }
                #expect(zip(spans, spans.dropFirst()).allSatisfy { $0.end == $1.start })
            }
            let (head, oldest) = try await chat.storage.readHeadAndOldest(chat.key, count: 5, logger: chat.logger)
            #expect(head == Array(entries.prefix(5)) && oldest == entries.last)
            #expect(try await chat.recent(3) == Array(messages.suffix(3)))
            #expect(try await chat.window(tokenLimit: 1_000_000).messages == messages)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func retriedAppendIsIdempotent(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("retry")
            let turn = ChatMessage(role: .user, content: "hello")
            #expect(try await chat.append(turn).appended == 1)
            #expect(try await chat.append(turn) == AppendResult(appended: 0, duplicates: 1, length: 1))
            let reply = ChatMessage(role: .assistant, content: "hi")
            // A retried batch: the first message was stored, the second not; the batch repeats one too.
            let result = try await chat.append(contentsOf: [turn, reply, reply])
            #expect(result == AppendResult(appended: 1, duplicates: 2, length: 2))
            #expect(try await chat.all() == [turn, reply])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func lengthCapKeepsTheNewest(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessages = 5 }) { store in
            let chat = store.memory.session("capped")
            let turns = storeTestTurns(8)
            for turn in turns.prefix(3) { try await chat.append(turn) }
            let result = try await chat.append(contentsOf: Array(turns[3...]))
            #expect(result == AppendResult(appended: 5, duplicates: 0, length: 5))
            #expect(try await chat.all() == Array(turns[3...]))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func timeToLiveIsSetAndRefreshedOnEveryWrite(kind: StoreKind) async throws {
        // A day, so that even a machine stalled for an hour cannot blur "set" and "refreshed".
        try await withStore(kind, { $0.timeToLive = .seconds(86_400) }) { store in
            let chat = store.memory.session("expiring")
            #expect(try await chat.timeToLive() == nil)
            try await chat.append(.user("first"))
            let ttl = try #require(try await chat.timeToLive())
            #expect(ttl > .seconds(82_800) && ttl <= .seconds(86_400))
            if kind == .redis {
                let redis = try store.redis()
                let seconds = try #require(try await redis.send("TTL", chat.key).int)
                #expect((82_800...86_400).contains(seconds))
                try await redis.send("PEXPIRE", chat.key, 2000)
                try await chat.append(.assistant("second"))
                let refreshed = try #require(try await redis.send("PTTL", chat.key).int)
                #expect(refreshed > 82_800_000)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func expiredSessionsAreGone(kind: StoreKind) async throws {
        try await withStore(kind, { $0.timeToLive = .milliseconds(700) }) { store in
            let chat = store.memory.session("short-lived")
            let appended = ContinuousClock.now
            try await chat.append(.user("soon gone"))
            let count = try await chat.count()
            // Only a machine that stalled for the whole time to live may see it gone already.
            if ContinuousClock.now - appended < .milliseconds(700) { #expect(count == 1) }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await chat.count() == 0)
            #expect(try await store.memory.sessions().collected() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func windowReturnsTheNewestThatFit(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("window")
            let turns = storeTestTurns(40)
            try await chat.append(contentsOf: turns)
            let counter = ApproximateTokenCounter()
            let perTurn = counter.count(turns[39])
            let window = try await chat.window(tokenLimit: perTurn * 10 + 5, reserving: 5)
            #expect(window.messages == Array(turns.suffix(10)))
            #expect(window.tokenCount == turns.suffix(10).reduce(0) { $0 + counter.count($1) })
            #expect(!window.isWholeHistory)
            let everything = try await chat.window(tokenLimit: 1_000_000)
            #expect(everything.messages == turns && everything.isWholeHistory)
            let llama = try await chat.window(tokenLimit: 60, policy: .llamaIndex)
            #expect(llama.messages.last == turns.last)
            await #expect(throws: ChatMemoryError.invalidTokenBudget(tokenLimit: 10, reserving: 11)) {
                _ = try await chat.window(tokenLimit: 10, reserving: 11)
            }
            await #expect(throws: ChatMemoryError.self) { _ = try await chat.window(tokenLimit: 3) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func windowKeepsToolCallsWithTheirResults(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("tools")
            let calls = [ChatMessage.ToolCall(id: "a", name: "f", arguments: "{}"), ChatMessage.ToolCall(id: "b", name: "g", arguments: "{}")]
            let history = [
                ChatMessage.user(String(repeating: "x", count: 400)),
                ChatMessage(role: .assistant, content: "", toolCalls: calls),
                ChatMessage(role: .tool, content: "result a", toolCallID: "a"),
                ChatMessage(role: .tool, content: "result b", toolCallID: "b"),
                ChatMessage.assistant("done"),
            ]
            try await chat.append(contentsOf: history)
            let counter = ApproximateTokenCounter()
            let toolUnit = history[1...].reduce(0) { $0 + counter.count($1) }
            // Room for the tool unit plus part of it again: never a window starting at a tool result.
            let window = try await chat.window(tokenLimit: toolUnit + 3)
            #expect(window.messages == Array(history[1...]))
            let small = try await chat.window(tokenLimit: toolUnit - 1)
            #expect(small.messages == [history[4]])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func storedCountsAreReusedAndRecountedForAnotherCounter(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("counts")
            let turns = storeTestTurns(6, size: 200)
            try await chat.append(contentsOf: turns)
            let (stored, skipped) = try await chat.inspect()
            #expect(skipped == 0)
            #expect(stored.map(\.tokens) == turns.map { ApproximateTokenCounter().count($0) })

            // A reader with the exact counter recounts.
            var reader = chat
            reader = ChatSession(id: chat.id, key: chat.key, storage: chat.storage, configuration: {
                var configuration = chat.configuration
                configuration.tokenCounter = try! TiktokenCounter(.cl100kBase)
                return configuration
            }(), logger: chat.logger, tracing: chat.tracing)
            let exact = try TiktokenCounter(.cl100kBase)
            let window = try await reader.window(tokenLimit: 100_000)
            #expect(window.tokenCount == turns.reduce(0) { $0 + exact.count($1) })
            #expect(window.tokenCount != turns.reduce(0) { $0 + ApproximateTokenCounter().count($1) })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oversizedNewestMessageIsReported(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("huge")
            try await chat.append(.user("short"))
            let huge = ChatMessage.user(String(repeating: "lorem ipsum ", count: 500))
            try await chat.append(huge)
            await #expect {
                _ = try await chat.window(tokenLimit: 100)
            } throws: { error in
                guard let error = error as? ChatMemoryError, error.code == .messageExceedsBudget else { return false }
                return error.messageID == huge.id && (error.tokens ?? 0) > 100 && error.budget == 100
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sessionIDsAreValidatedAndBinarySafe(kind: StoreKind) async throws {
        let empty = ""  // a variable: `SessionID("")` would be a literal, which stops the program
        #expect(throws: ChatMemoryError.invalidSessionID("a session id must not be empty")) { try SessionID(empty) }
        #expect(throws: ChatMemoryError.self) { try SessionID(bytes: [UInt8](repeating: 65, count: 513)) }
        try await withStore(kind) { store in
            let nasty: [[UInt8]] = [
                Array("with spaces\r\n{*}[x]?%s%d".utf8),
                [0, 0xFF, 0xFE, 0x2A, 0x00],
                Array("ünïcödé/漢字/🧪".utf8),
                [UInt8](repeating: UInt8(ascii: "z"), count: 512),
            ]
            for bytes in nasty {
                let id = try SessionID(bytes: bytes)
                try await store.memory.session(id).append(.user("hi"))
                #expect(try await store.memory.session(id).all().map(\.content) == ["hi"])
                #expect(store.memory.session(id).key == Array(store.prefix.utf8) + bytes)
                if kind == .redis {
                    #expect(try await store.redis().send("EXISTS", Array(store.prefix.utf8) + bytes) == .integer(1))
                }
            }
            let listed = try await store.memory.sessions().collected()
            #expect(Set(listed.map(\.bytes)) == Set(nasty))
            #expect(try await store.memory.delete(try SessionID(bytes: nasty[1])))
            #expect(try await store.memory.sessions().collected().count == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func manySessionsAreListed(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ids = try (0..<1500).map { try SessionID("user-\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: ids.count, by: 100) {
                    group.addTask {
                        for id in ids[chunk..<min(chunk + 100, ids.count)] { try await store.memory.session(id).append(.user("x")) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(Set(try await store.memory.sessions().collected()) == Set(ids))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsLoseNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("busy")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<20 {
                    group.addTask {
                        for index in 0..<25 { try await chat.append(.user("w\(writer)-\(index)")) }
                    }
                }
                try await group.waitForAll()
            }
            let contents = try await chat.all().map(\.content)
            #expect(contents.count == 500)
            #expect(Set(contents).count == 500)
            for writer in 0..<20 {
                let own = contents.compactMap { $0 }.filter { $0.hasPrefix("w\(writer)-") }
                #expect(own == (0..<25).map { "w\(writer)-\($0)" })
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func invalidSettingsAndMessagesAreTypedErrors(kind: StoreKind) async throws {
        await #expect(throws: ChatMemoryError.invalidConfiguration("maxMessages must be from 1 to 4294967296 (got 0)")) {
            try await StoreUnderTest.make(kind, { $0.maxMessages = 0 })
        }
        await #expect(throws: ChatMemoryError.self) { try await StoreUnderTest.make(kind, { $0.idempotencyWindow = -1 }) }
        try await withStore(kind) { store in
            await #expect(throws: ChatMemoryError.self) {
                try await store.memory.session("x").append(ChatMessage(id: "", role: .user, content: "no id"))
            }
            await #expect(throws: ChatMemoryError.self) { _ = try await store.memory.session("x").recent(-1) }
        }
    }
}

@Suite struct RedisStoreTests {
    @Test func windowReadCostsTheWindowNotTheHistory() async throws {
        try await withStore(.redis, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("long")
            let turns = storeTestTurns(5000, size: 200)
            for chunk in stride(from: 0, to: turns.count, by: 1000) {
                try await chat.append(contentsOf: Array(turns[chunk..<chunk + 1000]))
            }
            let spy = StoreTestCountingStorage(base: chat.storage)
            let watched = ChatSession(id: chat.id, key: chat.key, storage: spy, configuration: chat.configuration, logger: chat.logger, tracing: chat.tracing)
            let window = try await watched.window(tokenLimit: 3000)
            #expect(window.messages == Array(turns.suffix(window.messages.count)))
            #expect(window.messages.count > 40)
            #expect(spy.entriesFetched < window.messages.count * 3 + 16)
            #expect(spy.rangeCalls <= 3)
        }
    }

    @Test func foreignEntriesAreSkippedAndCounted() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("mixed")
            let redis = try store.redis()
            let before = ChatMessage.user("before")
            try await chat.append(before)
            try await redis.send("LPUSH", chat.key, "written by hand", #"{"message":{"id":"x","role":"user","con"#,
                                 #"{"foo":1}"#, #"{"id":"y","role":"wizard","content":"?"}"#, [0xFF, 0x00])
            let bare = #"{"id":"bare-1","role":"user","content":"typed in redis-cli"}"#
            try await redis.send("LPUSH", chat.key, bare)
            let after = ChatMessage.assistant("after")
            try await chat.append(after)
            let all = try await chat.all()
            #expect(all.map(\.content) == ["before", "typed in redis-cli", "after"])
            let window = try await chat.window(tokenLimit: 10_000)
            #expect(window.messages.map(\.content) == ["before", "typed in redis-cli", "after"])
            #expect(window.skippedEntries == 5)
            #expect(try await chat.inspect().skippedEntries == 5)
            #expect(try await chat.count() == 8)
        }
    }

    @Test func keyOfAnotherTypeIsATypedError() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("not-a-list")
            try await store.redis().send("SET", chat.key, "a string")
            let expected = ChatMemoryError.wrongKeyType(key: String(decoding: chat.key, as: UTF8.self))
            await #expect(throws: expected) { try await chat.append(.user("x")) }
            await #expect(throws: expected) { _ = try await chat.window(tokenLimit: 100) }
            await #expect(throws: expected) { _ = try await chat.count() }
            await #expect(throws: expected) { _ = try await chat.all() }
            await #expect(throws: expected) { _ = try await chat.clear() }
            #expect(try await store.redis().send("GET", chat.key).string == "a string")
            try await store.redis().send("DEL", chat.key)
        }
    }

    @Test func layoutIsTheDocumentedOne() async throws {
        try await withStore(.redis, { $0.keyPrefix = "chat-layout-\(UUID().uuidString.prefix(6)):" }) { store in
            let chat = store.memory.session("layout")
            let first = ChatMessage.user("first")
            let second = ChatMessage.assistant("second")
            try await chat.append(contentsOf: [first, second])
            let redis = try store.redis()
            #expect(try await redis.send("TYPE", chat.key) == .status("list"))
            let raw = try await redis.send("LRANGE", chat.key, 0, -1).array?.compactMap(\.string) ?? []
            #expect(raw.count == 2)
            // Newest at the head, in the compact form: id, count, role, content, created_at.
            #expect(raw[0].hasPrefix(#"["\#(second.id)","#) && raw[0].contains(#","assistant","second","#) && raw[0].hasSuffix("]"))
            #expect(raw[1].hasPrefix(#"["\#(first.id)","#) && raw[1].contains(#","user","first","#))
        }
    }
}
