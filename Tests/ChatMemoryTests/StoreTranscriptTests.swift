import Foundation
import ChatMemoryRedis
import Testing
@testable import ChatMemory

/// The transcript: what compaction folds moves to an archive beside the session, and
/// `transcript` pages through archive and session, oldest first, with the summary marked.
@Suite struct StoreTranscriptTests {
    /// Every page from position 0 on, `limit` at a time.
    private static func forward(_ chat: ChatSession, limit: Int) async throws -> (messages: [TranscriptEntry], summaries: Int) {
        var entries: [TranscriptEntry] = []
        var page = try await chat.transcript(limit: limit)
        while true {
            entries += page.entries
            guard let next = page.next else { break }
            page = try await chat.transcript(from: next, limit: limit)
        }
        let summaries = entries.filter { if case .summary = $0 { true } else { false } }.count
        return (entries.filter { if case .message = $0 { true } else { false } }, summaries)
    }

    private static func ids(_ entries: [TranscriptEntry]) -> [String] {
        entries.compactMap { if case .message(let message, _) = $0 { message.id } else { nil } }
    }

    @Test(arguments: StoreKind.allCases)
    func aLongSessionCompactedManyTimesReadsWholeFromItsTranscript(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("long")
            var appended: [String] = []
            var compactions = 0
            for batch in 0..<20 {
                let turns = storeTestTurns(100, label: "b\(batch)")
                try await chat.append(contentsOf: turns)
                appended += turns.map(\.id)
                if batch % 4 == 3 {
                    let result = try await chat.compact(targetTokens: 200, summarizer: CountingSummarizer())
                    #expect(result.outcome == .compacted)
                    compactions += 1
                }
            }
            #expect(compactions == 5)
            let live = try await chat.count()
            #expect(live < 400, "compaction left \(live) entries in the session")

            let (messages, summaries) = try await Self.forward(chat, limit: 1000)
            #expect(Self.ids(messages) == appended)
            #expect(summaries == 1)
            let archived = messages.filter { if case .message(_, archived: true) = $0 { true } else { false } }.count
            #expect(archived == 2_000 - (live - 1), "every message not in the session is archived")
            #expect(messages.prefix(archived).allSatisfy { if case .message(_, archived: true) = $0 { true } else { false } })

            // From the newest backwards, 50 at a time: the same messages.
            var backward: [String] = []
            var page = try await chat.transcript(before: nil, limit: 50)
            #expect(page.positions == 1_950..<2_000 && page.total == 2_000)
            while true {
                backward = page.messages.map(\.id) + backward
                guard let previous = page.previous else { break }
                page = try await chat.transcript(before: previous, limit: 50)
            }
            #expect(backward == appended)

            // Windows still see the summary and the session only.
            let window = try await chat.window(tokenLimit: 1_000_000)
            #expect(window.messages.first?.id.hasPrefix("summary:") == true)
            #expect(window.messages.count == live)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func pagingWhileCompactionRunsNeverRepeatsOrSkips(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 2 }) { store in
            let chat = store.memory.session("moving")
            let first = storeTestTurns(300, label: "first")
            try await chat.append(contentsOf: first)
            let done = SummaryTestBox(false)
            async let writer: [String] = {
                // Also when it throws: the reader then stops, and the test fails on the rethrow.
                defer { done.update { $0 = true } }
                var written: [String] = []
                for round in 0..<8 {
                    let turns = storeTestTurns(20, label: "r\(round)")
                    try await chat.append(contentsOf: turns)
                    written += turns.map(\.id)
                    _ = try await chat.compact(targetTokens: 100, summarizer: CountingSummarizer())
                }
                return written
            }()
            var read: [String] = []
            var position = 0
            while true {
                // Sampled before the read: a page that ends the transcript after the writer
                // finished ends the reading.
                let finished = done.value
                let page = try await chat.transcript(from: position, limit: 7)
                read += page.messages.map(\.id)
                position = page.positions.upperBound
                if page.next == nil {
                    if finished { break }
                    await Task.yield()
                }
            }
            #expect(read == first.map(\.id) + (try await writer))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theArchiveKeepsItsCapAndCanBeTurnedOff(kind: StoreKind) async throws {
        try await withStore(kind, { $0.compaction.archive = TranscriptArchive(maxMessages: 5); $0.idempotencyWindow = 1 }) { store in
            let chat = store.memory.session("capped")
            let turns = storeTestTurns(30)
            try await chat.append(contentsOf: turns)
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            let page = try await chat.transcript(limit: 1000)
            // 28 folded, the newest 5 of them archived; the summary; the 2 protected.
            #expect(page.messages.map(\.id) == turns[23...].map(\.id))
            #expect(page.total == 7 && page.entries.count == 8)
        }
        try await withStore(kind, { $0.compaction.archive = nil; $0.idempotencyWindow = 1 }) { store in
            let chat = store.memory.session("dropped")
            let turns = storeTestTurns(30)
            try await chat.append(contentsOf: turns)
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            let page = try await chat.transcript(limit: 1000)
            #expect(page.messages.map(\.id) == turns[28...].map(\.id))
            if let client = store.client {
                #expect(try await client.send("EXISTS", RedisChatStorage.archiveKey(of: chat.key)) == .integer(0))
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func clearingOrErasingDeletesTheArchive(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 1 }) { store in
            let chat = store.memory.session("gone", owner: "erased-owner")
            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            #expect(try await chat.transcript().total == 10)
            #expect(try await chat.clear())
            #expect(try await chat.transcript().total == 0)
            let archive = RedisChatStorage.archiveKey(of: chat.key)
            if let client = store.client { #expect(try await client.send("EXISTS", archive) == .integer(0)) }

            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            if let client = store.client { #expect(try await client.send("EXISTS", archive) == .integer(1)) }
            #expect(try await store.memory.erase(owner: "erased-owner") == 1)
            #expect(try await chat.transcript().total == 0)
            if let client = store.client { #expect(try await client.send("EXISTS", archive) == .integer(0)) }
        }
    }

    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func theArchiveLivesAsLongAsItsSessionOrItsOwnTime(kind: StoreKind) async throws {
        let admin = RedisClient(configuration: try storeTestRedisConfiguration())
        // Following the session: every compaction and (sliding) read sets the session's time;
        // an append does not (its script names no archive key).
        try await withStore(kind, { $0.idempotencyWindow = 1; $0.timeToLive = .seconds(3600); $0.refreshesTimeToLiveOnRead = true }) { store in
            let chat = store.memory.session("follows")
            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            let archive = RedisChatStorage.archiveKey(of: chat.key)
            #expect(try #require(try await admin.send("PTTL", archive).int) > 3_000_000)
            let steps: [(String, @Sendable () async throws -> Void)] = [
                ("transcript", { _ = try await chat.transcript() }),
                ("window", { _ = try await chat.window(tokenLimit: 1_000) }),
                ("compact", { try await chat.append(contentsOf: storeTestTurns(4, label: "more"))
                              _ = try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()) }),
            ]
            for (name, step) in steps {
                try await admin.send("PEXPIRE", archive, 100_000)
                try await step()
                #expect(try #require(try await admin.send("PTTL", archive).int) > 3_000_000, "\(name)")
            }
            try await admin.send("PEXPIRE", archive, 100_000)
            try await chat.append(.user("again"))
            #expect(try #require(try await admin.send("PTTL", archive).int) <= 100_000, "an append leaves the archive")
        }
        // A session that never expires keeps its archive forever.
        try await withStore(kind, { $0.idempotencyWindow = 1 }) { store in
            let chat = store.memory.session("forever")
            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            #expect(try await admin.send("PTTL", RedisChatStorage.archiveKey(of: chat.key)) == .integer(-1))
        }
        // Its own time: set by each compaction, whatever the session's; appends leave it.
        try await withStore(kind, { $0.idempotencyWindow = 1; $0.timeToLive = .seconds(3600)
                                    $0.compaction.archive = TranscriptArchive(timeToLive: .seconds(600)) }) { store in
            let chat = store.memory.session("own")
            try await chat.append(contentsOf: storeTestTurns(10))
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            let archive = RedisChatStorage.archiveKey(of: chat.key)
            let left = try #require(try await admin.send("PTTL", archive).int)
            #expect((1...600_000).contains(left))
            try await admin.send("PEXPIRE", archive, 100_000)
            try await chat.append(.user("again"))
            #expect(try #require(try await admin.send("PTTL", archive).int) <= 100_000)
        }
        await admin.shutdown()
    }

    @Test(arguments: [StoreKind.redis, .leastPrivilege])
    func aForeignKeyAtTheArchiveIsATypedErrorAndNothingChanges(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 1 }) { store in
            let admin = RedisClient(configuration: try storeTestRedisConfiguration())
            let chat = store.memory.session("blocked")
            try await chat.append(contentsOf: storeTestTurns(10))
            let archive = RedisChatStorage.archiveKey(of: chat.key)
            try await admin.send("SET", archive, "someone else's")
            let before = try await chat.all()
            let name = String(decoding: archive, as: UTF8.self)
            await #expect(throws: ChatMemoryError.wrongKeyType(key: name)) {
                try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer())
            }
            await #expect(throws: ChatMemoryError.wrongKeyType(key: name)) { try await chat.transcript() }
            #expect(try await chat.all() == before)
            #expect(try await admin.send("GET", archive) == .bulkString(Array("someone else's".utf8)))
            // Clearing the session leaves someone else's key alone.
            #expect(try await chat.clear())
            #expect(try await admin.send("EXISTS", archive) == .integer(1))
            try await admin.send("UNLINK", archive)
            await admin.shutdown()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aConversationWhoseArchiveOutlivesItsSessionStaysListedUntilErased(kind: StoreKind) async throws {
        // Times to live far beyond the test's run, however slow the machine: the session must
        // not expire before its entries are removed by hand.
        try await withStore(kind, { $0.idempotencyWindow = 1; $0.timeToLive = .seconds(3600)
                                    $0.compaction.archive = TranscriptArchive(timeToLive: .seconds(36_000)) }) { store in
            let owner: OwnerID = "keeper"
            let chat = store.memory.session("outlived", owner: owner)
            let turns = storeTestTurns(6)
            try await chat.append(contentsOf: turns)
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            // The session's entries go (as when it expires first); its archive stays.
            #expect(try await chat.replace(after: nil, ifNewestIs: turns[5], with: []).isApplied)
            #expect(try await chat.count() == 0)
            let listed = try await store.memory.conversations(of: owner).conversations
            #expect(listed.map(\.id) == ["outlived"] && listed.first?.messageCount == 0)
            #expect(try await chat.transcript().messages == Array(turns[..<4]))
            if let client = store.client {
                let list = RedisChatStorage.ownerIndexKey(of: store.memory.key(of: owner))
                #expect(try #require(try await client.send("PTTL", list).int) > 3_600_000, "the list lives as long as the archive")
            }
            #expect(try await store.memory.erase(owner: owner) == 0, "no session list was left to count")
            #expect(try await chat.transcript().total == 0)
            if let client = store.client {
                #expect(try await client.send("EXISTS", RedisChatStorage.archiveKey(of: chat.key)) == .integer(0))
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func editsLeaveTheArchiveAlone(kind: StoreKind) async throws {
        try await withStore(kind, { $0.idempotencyWindow = 1 }) { store in
            let chat = store.memory.session("edited")
            let turns = storeTestTurns(10)
            try await chat.append(contentsOf: turns)
            #expect(try await chat.compact(targetTokens: 0, summarizer: CountingSummarizer()).outcome == .compacted)
            #expect(try await chat.truncate(after: turns[0].id, ifNewestIs: turns[9]) == .anchorNotFound)
            #expect(try await chat.truncate(after: turns[8].id, ifNewestIs: turns[9]).isApplied)
            let fresh = ChatMessage.user("start again")
            #expect(try await chat.replace(after: nil, ifNewestIs: turns[8], with: [fresh]).isApplied)
            let page = try await chat.transcript()
            #expect(page.messages == Array(turns[..<8]) + [fresh])
            #expect(page.entries.count == 9, "the replaced summary is gone")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aMessageThatLooksLikeASummaryIsAMessage(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Each the oldest entry of its session, where the summary would be.
            let lookalikes = [ChatMessage(id: #"x","kind":"summary"#, role: .user, content: #","kind":"summary""#),
                              ChatMessage(id: "summary:fake", role: .system, content: "not a summary"),
                              ChatMessage(id: #"\"#, role: .user, content: "backslash"),
                              ChatMessage(id: #"\","kind":"summary"#, role: .user, content: "escaped quote")]
            for (index, lookalike) in lookalikes.enumerated() {
                let chat = store.memory.session(try SessionID("lookalike-\(index)"))
                try await chat.append(contentsOf: [lookalike, .user("after")])
                let page = try await chat.transcript(before: nil)
                #expect(page.total == 2 && page.messages.first == lookalike, "\(lookalike.id)")
                #expect(page.entries.count == 2)
            }
        }
    }

    @Test func badPagesAndSettingsAreTypedErrors() async throws {
        let chat = try RedisChatMemory(storage: EmbeddedChatStorage()).session("s")
        for call in [{ _ = try await chat.transcript(from: -1) }, { _ = try await chat.transcript(before: -1) },
                     { _ = try await chat.transcript(limit: 0) }, { _ = try await chat.transcript(before: nil, limit: ChatSession.maxTranscriptPage + 1) }] as [@Sendable () async throws -> Void] {
            await #expect(throws: ChatMemoryError.self) { try await call() }
        }
        #expect(try await chat.transcript(from: Int.max).positions == 0..<0)
        #expect(try await chat.transcript(before: 0).positions == 0..<0)
        for archive in [TranscriptArchive(maxMessages: 0), TranscriptArchive(timeToLive: .zero), TranscriptArchive(timeToLive: .seconds(-1))] {
            var configuration = ChatMemoryConfiguration()
            configuration.compaction.archive = archive
            #expect(throws: ChatMemoryError.self) { try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration) }
        }
        for prefix in ["archive:{", "archive:", "archive:{x}chat:"] {
            var configuration = ChatMemoryConfiguration()
            configuration.keyPrefix = prefix
            #expect(throws: ChatMemoryError.self) { try RedisChatMemory(client: RedisClient(configuration: .init()), configuration: configuration) }
        }
    }
}
