import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory

/// The promises of `append` and `window` at their edges: concurrent writers, retried batches,
/// out-of-range settings, forged counts.
@Suite struct StoreGuaranteeTests {
    // MARK: - Windows under concurrent writers

    /// Writers append tool-call turns (some as one batch, some as a call and its results in two
    /// appends) while readers take windows; every window must be a suffix of the session at one
    /// instant: each writer's messages contiguous and in order, no duplicates, no tool result
    /// before its call, and under `.modelSafe` every result with its call.
    @Test(arguments: StoreKind.allCases, [nil, 120] as [Int?])
    func windowsAreConsistentUnderConcurrentWriters(kind: StoreKind, maxMessages: Int?) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter(); $0.maxMessages = maxMessages }) { store in
            let chat = store.memory.session("busy")
            let writers = 4, turnsPerWriter = 60
            let violations = try await withThrowingTaskGroup(of: [String].self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for turn in 0..<turnsPerWriter {
                            let messages = Self.toolTurn(writer: writer, turn: turn)
                            if turn.isMultiple(of: 3) {
                                try await chat.append(contentsOf: Array(messages.prefix(2)))
                                try await chat.append(contentsOf: Array(messages.dropFirst(2)))
                            } else {
                                try await chat.append(contentsOf: messages)
                            }
                        }
                        return []
                    }
                }
                for reader in 0..<3 {
                    group.addTask {
                        var found: [String] = []
                        for round in 0..<80 {
                            let policy: WindowPolicy = (reader + round).isMultiple(of: 2) ? .modelSafe : .llamaIndex
                            let window: ChatWindow
                            do {
                                window = try await chat.window(tokenLimit: 600 + 97 * (round % 7), policy: policy)
                            } catch let error as ChatMemoryError where error.code == .messageExceedsBudget {
                                // Another writer's turns landed between a call and its results: the
                                // newest unit spans them and can be over the budget. A truthful answer.
                                continue
                            }
                            found += Self.violations(in: window.messages, policy: policy).map { "reader \(reader) round \(round): \($0)" }
                        }
                        return found
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(violations.isEmpty, "\(violations.count) violations, first: \(violations.prefix(5))")
            let final = try await chat.all()
            #expect(Self.violations(in: final, policy: .llamaIndex).isEmpty)
            #expect(final.count == maxMessages ?? writers * turnsPerWriter * 4)
        }
    }

    /// A user turn, an assistant calling two tools, their two results (4 messages; ids
    /// `w<writer>-<turn>-<part>`, content carrying the writer and sequence number).
    static func toolTurn(writer: Int, turn: Int) -> [ChatMessage] {
        let base = "w\(writer)-\(turn)"
        let calls = (0..<2).map { ChatMessage.ToolCall(id: "\(base)-call\($0)", name: "f", arguments: "{}") }
        return [
            ChatMessage(id: "\(base)-0", role: .user, content: "\(writer) \(turn * 4 + 0) question"),
            ChatMessage(id: "\(base)-1", role: .assistant, content: "\(writer) \(turn * 4 + 1)", toolCalls: calls),
            ChatMessage(id: "\(base)-2", role: .tool, content: "\(writer) \(turn * 4 + 2) result", toolCallID: calls[0].id),
            ChatMessage(id: "\(base)-3", role: .tool, content: "\(writer) \(turn * 4 + 3) result", toolCallID: calls[1].id),
        ]
    }

    /// What makes `messages` (oldest first) something other than a suffix of the session.
    static func violations(in messages: [ChatMessage], policy: WindowPolicy) -> [String] {
        var found: [String] = []
        var ids = Set<String>()
        var lastSequence: [String: Int] = [:]
        var calls = Set<String>()
        for (index, message) in messages.enumerated() {
            if !ids.insert(message.id).inserted { found.append("duplicate \(message.id)") }
            let parts = (message.content ?? "").split(separator: " ")
            if parts.count >= 2, let sequence = Int(parts[1]) {
                let writer = String(parts[0])
                if let last = lastSequence[writer], sequence != last + 1 {
                    found.append("writer \(writer): \(sequence) after \(last)")
                }
                lastSequence[writer] = sequence
            }
            for call in message.toolCalls { calls.insert(call.id) }
            guard message.role == .tool, let callID = message.toolCallID, !calls.contains(callID) else { continue }
            // `.llamaIndex` may cut a call off its results (as LlamaIndex does); no policy may put
            // a result before its call.
            let callLater = messages[index...].contains { $0.toolCalls.contains { $0.id == callID } }
            if policy == .modelSafe || callLater { found.append("result \(message.id) without its call before it") }
        }
        return found
    }

    // MARK: - Retried appends

    @Test(arguments: StoreKind.allCases)
    func retryingABatchOfAnySizeStoresNothingTwice(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("retried-batch")
            let batch = storeTestTurns(40, label: "batch")
            #expect(try await chat.append(contentsOf: batch).appended == 40)
            // Other writers append up to the window (16) in between.
            try await chat.append(contentsOf: storeTestTurns(16, label: "other"))
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 0, duplicates: 40, length: 56))
            // A retry whose first attempt stored only part of the batch (a prefix was there already).
            let bigger = storeTestTurns(3_000, label: "big")
            #expect(try await chat.append(contentsOf: Array(bigger.prefix(1_000))).appended == 1_000)
            #expect(try await chat.append(contentsOf: bigger) == AppendResult(appended: 2_000, duplicates: 1_000, length: 3_056))
            #expect(try await chat.append(contentsOf: bigger) == AppendResult(appended: 0, duplicates: 3_000, length: 3_056))
            let all = try await chat.all()
            #expect(Set(all.map(\.id)).count == all.count)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theWindowCoversExactlyTheDocumentedNumberOfOtherMessages(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 3 }) { store in
            let chat = store.memory.session("window")
            let held = ChatMessage(role: .user, content: "held")
            try await chat.append(held)
            try await chat.append(contentsOf: storeTestTurns(3, label: "a"))
            #expect(try await chat.append(held).appended == 0)   // 3 others in between: still a retry
            let dropped = ChatMessage(role: .user, content: "dropped")
            try await chat.append(dropped)
            try await chat.append(contentsOf: storeTestTurns(4, label: "b"))
            #expect(try await chat.append(dropped).appended == 1)   // 4 others: beyond the window
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRetryAfterTheCapTrimmedTheBatchIsStillANoOp(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessages = 10 }) { store in
            let chat = store.memory.session("capped-retry")
            let batch = storeTestTurns(100)
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 100, duplicates: 0, length: 10))
            #expect(try await chat.append(contentsOf: batch) == AppendResult(appended: 0, duplicates: 100, length: 10))
            #expect(try await chat.all() == Array(batch.suffix(10)))
            // A batch never lands on top of its own newer messages: what precedes a held one is stored.
            let newer = storeTestTurns(3, label: "newer")
            try await chat.append(newer[2])
            #expect(try await chat.append(contentsOf: newer) == AppendResult(appended: 0, duplicates: 3, length: 10))
        }
    }

    // MARK: - Validation before writing

    @Test(arguments: StoreKind.allCases)
    func outOfRangeSettingsAreRefusedBeforeAnythingIsWritten(kind: StoreKind) async throws {
        let bad: [(String, (inout ChatMemoryConfiguration) -> Void)] = [
            ("maxMessages 1e17", { $0.maxMessages = 100_000_000_000_000_000 }),
            ("maxMessages 0", { $0.maxMessages = 0 }),
            ("maxMessages Int.max", { $0.maxMessages = .max }),
            ("timeToLive 1e17 ms", { $0.timeToLive = .milliseconds(100_000_000_000_000_000) }),
            ("timeToLive Int64.max s", { $0.timeToLive = .seconds(Int64.max) }),
            ("timeToLive 0", { $0.timeToLive = .zero }),
            ("idempotencyWindow Int.max", { $0.idempotencyWindow = .max }),
            ("idempotencyWindow -1", { $0.idempotencyWindow = -1 }),
            ("maxMessageBytes 0", { $0.maxMessageBytes = 0 }),
        ]
        for (name, adjust) in bad {
            await #expect(throws: ChatMemoryError.self, "\(name)") { _ = try await StoreUnderTest.make(kind, adjust) }
        }
        // The largest accepted values are accepted.
        let largest = try await StoreUnderTest.make(kind) {
            $0.maxMessages = ChatMemoryConfiguration.maxMessagesLimit
            $0.timeToLive = ChatMemoryConfiguration.timeToLiveLimit
        }
        try await largest.cleanUp()
    }

    @Test(arguments: StoreKind.allCases)
    func theLargestSettingsAppendAndExpire(kind: StoreKind) async throws {
        try await withStore(kind, {
            $0.maxMessages = ChatMemoryConfiguration.maxMessagesLimit
            $0.timeToLive = ChatMemoryConfiguration.timeToLiveLimit
            $0.idempotencyWindow = ChatMemoryConfiguration.idempotencyWindowLimit
        }) { store in
            let chat = store.memory.session("largest")
            #expect(try await chat.append(.user("hi")) == AppendResult(appended: 1, duplicates: 0, length: 1))
            let ttl = try #require(try await chat.timeToLive())
            #expect(ttl > .seconds(99 * 365 * 86_400))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anOversizedMessageIsRefusedBeforeCountingOrWriting(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessageBytes = 1_000 }) { store in
            let chat = store.memory.session("big")
            let fits = ChatMessage(id: "fits", role: .user, content: String(repeating: "a", count: 1_000 - 4 - 4))
            let over = ChatMessage(id: "over", role: .tool, content: "x", toolCalls: [], toolCallID: String(repeating: "c", count: 1_000))
            let refused = await #expect(throws: ChatMemoryError.self) { _ = try await chat.append(contentsOf: [fits, over]) }
            #expect(refused == .messageTooLarge(messageID: "over", bytes: 4 + 4 + 1 + 1_000, limit: 1_000))
            let stored = try await chat.count()
            #expect(stored == 0)
            #expect(try await chat.append(fits).appended == 1)
        }
    }

    // MARK: - Forged counts and empty windows

    @Test func aForgedCountTooSmallForItsMessageIsRecounted() async throws {
        try await withStore(.redis, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("forged-small")
            let content = String(repeating: "x", count: 100_000)
            let forged = #"{"id":"f1","v":1,"tokens":5,"counter":"approx-utf8-4/v1","message":{"id":"f1","role":"user","content":"\#(content)"}}"#
            try await store.redis().send("LPUSH", chat.key, forged)
            await #expect(throws: ChatMemoryError.self) { _ = try await chat.window(tokenLimit: 100) }
            #expect(try await chat.inspect().messages.first?.tokens == ApproximateTokenCounter().count(ChatMessage(id: "f1", role: .user, content: content)))
        }
    }

    @Test func anEntryWithAnEmptyIDIsForeign() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("empty-id")
            try await chat.append(.user("mine"))
            try await store.redis().send("LPUSH", chat.key, #"{"id":"","role":"user","content":"x"}"#)
            let window = try await chat.window(tokenLimit: 1_000)
            #expect(window.messages.map(\.content) == ["mine"] && window.skippedEntries == 1)
        }
    }

    /// Identical entries at a page boundary cannot fool the consistency check: an append that
    /// lands between two page reads is always seen.
    @Test(arguments: [StoreKind.redis, .embedded])
    func identicalEntriesAtAPageBoundaryCannotHideAnAppend(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 0; $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("aba")
            let repeated = ChatMessage(id: "x", role: .user, content: "same", createdAt: Date(timeIntervalSince1970: 1))
            try await chat.append(contentsOf: storeTestTurns(20, label: "old"))
            try await chat.append(repeated)
            try await chat.append(repeated)
            try await chat.append(contentsOf: storeTestTurns(14, label: "new"))
            let injecting = StoreTestInjectingStorage(base: chat.storage) { storage in
                _ = try await storage.append([StoredEntry.encode(repeated, tokens: 2, counter: "approx-utf8-4/v1")],
                                             to: chat.key, policy: chat.configuration.retention, logger: chat.logger)
            }
            let watched = ChatSession(id: chat.id, key: chat.key, storage: injecting, configuration: chat.configuration, logger: chat.logger, tracing: chat.tracing)
            let window = try await watched.window(tokenLimit: 100_000)
            let all = try await chat.all()
            #expect(window.messages == all, "\(window.messages.count) messages in the window, \(all.count) in the session")
        }
    }

    @Test func aForgedStoredCountIsRecountedNotTrusted() async throws {
        try await withStore(.redis, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("forged")
            try await chat.append(.user("before"))
            let forged = #"{"id":"f1","v":1,"tokens":5000000000000000000,"counter":"approx-utf8-4/v1","message":{"id":"f1","role":"user","content":"x"}}"#
            let negative = #"{"id":"f2","v":1,"tokens":-7,"counter":"approx-utf8-4/v1","message":{"id":"f2","role":"user","content":"y"}}"#
            try await store.redis().send("LPUSH", chat.key, forged, forged.replacingOccurrences(of: "f1", with: "f3"), negative)
            let window = try await chat.window(tokenLimit: 1_000)
            #expect(window.messages.map(\.id).suffix(3) == ["f1", "f3", "f2"])
            #expect(window.isWholeHistory && window.tokenCount < 100)
            let inspected = try await chat.inspect().messages
            #expect(inspected.allSatisfy { $0.tokens < 100 })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aNewestToolResultOverTheBudgetThrowsInsteadOfAnEmptyWindow(kind: StoreKind) async throws {
        try await withStore(kind, { $0.tokenCounter = ApproximateTokenCounter() }) { store in
            let chat = store.memory.session("huge-result")
            let call = ChatMessage.ToolCall(id: "c1", name: "f", arguments: "{}")
            try await chat.append(contentsOf: [.user("go"), .assistant(nil, toolCalls: [call]),
                                               .tool(String(repeating: "r", count: 4_000), callID: "c1")])
            await #expect(throws: ChatMemoryError.self) { _ = try await chat.window(tokenLimit: 500) }

            // Its call so far back that it is not read: still an error, never an empty window.
            let far = store.memory.session("far-call")
            try await far.append(contentsOf: [.user("go"), .assistant(nil, toolCalls: [call])] + storeTestTurns(200)
                                 .map { ChatMessage(role: .tool, content: $0.content, toolCallID: "c1") })
            await #expect(throws: ChatMemoryError.self) { _ = try await far.window(tokenLimit: 100) }

            // Orphan results (their call is nowhere in the session) are never sent: orphans alone,
            // or a newest orphan, give an empty window whatever the budget.
            let orphans = store.memory.session("orphans")
            try await orphans.append(contentsOf: [.tool("a", callID: "gone"), .tool("b", callID: "gone")])
            let empty = try await orphans.window(tokenLimit: 1_000)
            #expect(empty.messages.isEmpty && !empty.isWholeHistory)
            try await orphans.append(.tool(String(repeating: "z", count: 8_000), callID: "gone"))
            #expect(try await orphans.window(tokenLimit: 1_000).messages.isEmpty)
            let newestOrphan = store.memory.session("newest-orphan")
            try await newestOrphan.append(contentsOf: [.user(String(repeating: "u", count: 400)), .tool("small", callID: "gone")])
            for limit in [10, 50, 1_000] {
                #expect(try await newestOrphan.window(tokenLimit: limit).messages.isEmpty)
            }
        }
    }
}

/// A least-privilege ACL user: what it may not run is reported by name, with nothing written.
@Suite struct LeastPrivilegeTests {
    /// Each command the append script runs, in a session where it runs it: `pttl` without a time
    /// to live, `lrange` and `rpush` without an id index, `unlink` with a stale one, `ltrim` in
    /// a session the cap cuts.
    @Test(arguments: ["llen", "lpos", "ltrim", "pexpire", "lpush", "lrange", "rpush", "pttl", "unlink"])
    func aCommandTheUserLacksIsNOPERMNamingItAndNothingIsWritten(command: String) async throws {
        try await withStore(.leastPrivilege, { $0.maxMessages = 10; $0.timeToLive = command == "pttl" ? nil : .seconds(60) }) { store in
            let user = try #require(store.aclUser)
            let chat = store.memory.session("refused")
            try await chat.append(.user("first"))
            let stored = command == "ltrim" ? 10 : 1
            if stored > 1 { try await chat.append(contentsOf: storeTestTurns(stored - 1)) }
            let redis = try store.redis()
            let index = RedisChatStorage.indexKey(of: chat.key)
            if command == "lrange" || command == "rpush" { try await redis.send("LTRIM", index, 1, 0) }
            if command == "unlink" { try await redis.send("RPUSH", index, "stale", "ids") }
            let before = try await redis.send("LRANGE", index, 0, -1)
            try await storeTestAdmin(["ACL", "SETUSER", user, "-" + command])
            let refused = await #expect(throws: RedisError.self) { try await chat.append(.user("hi")) }
            #expect(refused?.code == .server(.noPermission))
            #expect(refused?.message.contains("'\(command)'") == true, "\(String(describing: refused))")
            try await storeTestAdmin(["ACL", "SETUSER", user, "+" + command])
            #expect(try await chat.count() == stored)
            #expect(try await redis.send("LRANGE", index, 0, -1) == before)
        }
    }

    /// A user made before transcript archives (its rules lack `~archive:{???}…`): appends go on;
    /// compaction and `clear` are `NOPERM` with nothing changed; with `archive = nil` everything
    /// goes on.
    @Test func aUserWithoutTheArchiveRuleIsRefusedWithNothingWritten() async throws {
        try await withStore(.leastPrivilege, { $0.idempotencyWindow = 1; $0.timeToLive = .seconds(60) }) { store in
            let user = try #require(store.aclUser)
            let old = RedisChatMemory.aclRules(keyPrefix: store.prefix).filter { !$0.hasPrefix("~archive:") }
            try await storeTestAdmin(["ACL", "SETUSER", user, "resetkeys"] + old)
            let chat = store.memory.session("old-user-ttl")
            try await chat.append(.user("hi"))
            #expect(try await chat.count() == 1)

            var withoutTTL = ChatMemoryConfiguration()
            withoutTTL.keyPrefix = store.prefix
            withoutTTL.idempotencyWindow = 1
            let plain = try RedisChatMemory(client: try #require(store.client), configuration: withoutTTL).session("old-user")
            let turns = storeTestTurns(6)
            try await plain.append(contentsOf: turns)
            let compaction = await #expect(throws: RedisError.self) {
                try await plain.compact(targetTokens: 0, summarizer: CountingSummarizer())
            }
            #expect(compaction?.code == .server(.noPermission))
            #expect(try await plain.all() == turns)

            withoutTTL.compaction.archive = nil
            let noArchive = try RedisChatMemory(client: try #require(store.client), configuration: withoutTTL).session("old-user")
            #expect(try await noArchive.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            #expect(try await noArchive.transcript().total == 2, "the two protected messages stay; nothing was archived")
            await #expect(throws: RedisError.self) { try await plain.clear() }
            #expect(try await noArchive.clear())
            // The whole rules again, for the store's clean-up.
            try await storeTestAdmin(["ACL", "SETUSER", user, "resetkeys"] + RedisChatMemory.aclRules(keyPrefix: store.prefix))
        }
    }

    /// Each command compaction's commit runs (the archive's included): `pttl` and `persist` for
    /// a session without a configured time to live, `pexpire` with one.
    @Test(arguments: ["llen", "lrange", "type", "pttl", "rpush", "ltrim", "pexpire", "persist", "lset"])
    func aCompactionCommandTheUserLacksIsNOPERMNamingItAndNothingIsWritten(command: String) async throws {
        try await withStore(.leastPrivilege, {
            $0.idempotencyWindow = 1
            $0.timeToLive = command == "persist" || command == "pttl" ? nil : .seconds(60)
            $0.compaction.archive = TranscriptArchive(maxMessages: 100)
        }) { store in
            let user = try #require(store.aclUser)
            let chat = store.memory.session("refused")
            let turns = storeTestTurns(10)
            try await chat.append(contentsOf: turns)
            let redis = try store.redis()
            try await storeTestAdmin(["ACL", "SETUSER", user, "-" + command])
            let refused = await #expect(throws: RedisError.self) {
                try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer())
            }
            #expect(refused?.code == .server(.noPermission))
            #expect(refused?.message.contains("'\(command)'") == true, "\(String(describing: refused))")
            try await storeTestAdmin(["ACL", "SETUSER", user, "+" + command])
            #expect(try await chat.all() == turns)
            #expect(try await redis.send("EXISTS", RedisChatStorage.archiveKey(of: chat.key)) == .integer(0))
        }
    }
}
