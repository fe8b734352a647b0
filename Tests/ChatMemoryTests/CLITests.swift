import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// End-to-end tests of the `chat-memory` binary (CHAT_MEMORY_BIN) against the real server (REDIS_URL).
@Suite("chat-memory CLI")
struct CLITests {
    @Test("append, show, window, count, export, clear, import: the same messages byte for byte")
    func roundTrip() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("round-trip")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in

        try await cli.run(["append", session, "--role", "system", "--content", "You are terse.", "--id", "m0", "--created-at", "1764108063000"]).expectSuccess()
        try await cli.run(["append", session, "--role", "user", "--content", "Weather in Oslo?\nAnd Bergen?", "--id", "m1",
                           "--metadata", "lang=en", "--metadata", "k=a=b", "--created-at", "1764108064000"]).expectSuccess()
        try await cli.run(["append", session, "--role", "assistant", "--tool-call", #"call_1:weather:{"city":"Oslo"}"#, "--id", "m2",
                           "--created-at", "1764108065000"]).expectSuccess()
        try await cli.run(["append", session, "--role", "tool", "--content", #"{"temp":3}"#, "--tool-call-id", "call_1",
                           "--name", "weather", "--id", "m3", "--created-at", "1764108066000"]).expectSuccess()
        let last = try await cli.run(["append", session, "--role", "assistant", "--content", "3 °C.", "--id", "m4",
                                      "--created-at", "1764108067000", "--json"]).expectSuccess()
        #expect(try last.jsonObject()["length"] as? Int == 5)
        // A retried append is a no-op.
        let retry = try await cli.run(["append", session, "--role", "assistant", "--content", "3 °C.", "--id", "m4", "--json"]).expectSuccess()
        #expect(try retry.jsonObject()["appended"] as? Int == 0)
        #expect(try retry.jsonObject()["duplicates"] as? Int == 1)

        let expected = [
            ChatMessage(id: "m0", role: .system, content: "You are terse.", createdAt: Date(timeIntervalSince1970: 1_764_108_063)),
            ChatMessage(id: "m1", role: .user, content: "Weather in Oslo?\nAnd Bergen?", metadata: ["lang": "en", "k": "a=b"],
                        createdAt: Date(timeIntervalSince1970: 1_764_108_064)),
            ChatMessage(id: "m2", role: .assistant, content: nil, toolCalls: [.init(id: "call_1", name: "weather", arguments: #"{"city":"Oslo"}"#)],
                        createdAt: Date(timeIntervalSince1970: 1_764_108_065)),
            ChatMessage(id: "m3", role: .tool, content: #"{"temp":3}"#, name: "weather", toolCallID: "call_1",
                        createdAt: Date(timeIntervalSince1970: 1_764_108_066)),
            ChatMessage(id: "m4", role: .assistant, content: "3 °C.", createdAt: Date(timeIntervalSince1970: 1_764_108_067)),
        ]

        let show = try await cli.run(["show", session]).expectSuccess()
        #expect(show.output.hasPrefix("[2025-11-25 22:01:03] system: You are terse.\n[2025-11-25 22:01:04] user: Weather in Oslo?\n    And Bergen?\n"))
        #expect(show.output.contains(#"→ calls weather#call_1 {"city":"Oslo"}"#))
        #expect(show.output.contains("[2025-11-25 22:01:06] tool (weather, result of call_1): {\"temp\":3}"))
        #expect(show.output.hasSuffix("[2025-11-25 22:01:07] assistant: 3 °C.\n"))

        let showJSON = try await cli.run(["show", session, "--json"]).expectSuccess()
        struct Shown: Decodable { let messages: [ChatMessage]; let skipped_entries: Int }
        let shown = try ChatMessage.jsonDecoder.decode(Shown.self, from: showJSON.stdout)
        #expect(shown.messages == expected)
        #expect(shown.skipped_entries == 0)

        let window = try await cli.run(["window", session, "--tokens", "1000", "--reserve", "10", "--json"]).expectSuccess()
        struct Window: Decodable { let messages: [ChatMessage]; let whole_history: Bool; let reserved: Int; let token_limit: Int; let token_count: Int }
        let fullWindow = try ChatMessage.jsonDecoder.decode(Window.self, from: window.stdout)
        #expect(fullWindow.messages == expected && fullWindow.whole_history && fullWindow.reserved == 10 && fullWindow.token_limit == 1000)
        // A tight budget never starts with the tool result or splits the call from it.
        let tight = try await cli.run(["window", session, "--tokens", "\(fullWindow.token_count - 1)", "--json"]).expectSuccess()
        let tightWindow = try ChatMessage.jsonDecoder.decode(Window.self, from: tight.stdout)
        #expect(!tightWindow.whole_history)
        #expect(tightWindow.messages.first?.role != .tool)
        let llama = try await cli.run(["window", session, "--tokens", "1000", "--policy", "llama-index"]).expectSuccess()
        #expect(llama.output.contains("5 messages") && llama.output.contains("llama-index"))

        #expect(try await cli.run(["count", session]).expectSuccess().output == "5\n")
        #expect(try await cli.run(["count", session, "--json"]).expectSuccess().jsonObject()["count"] as? Int == 5)

        let export = try await cli.run(["export", session]).expectSuccess()
        #expect(export.stdout == (try cliJSONLines(expected)))

        let cleared = try await cli.run(["clear", session, "--json"]).expectSuccess()
        #expect(try cleared.jsonObject()["cleared"] as? Bool == true)
        #expect(try await cli.run(["count", session]).expectSuccess().output == "0\n")

        let imported = try await cli.run(["import", session, "--json", "--batch-size", "2"], stdin: export.stdout).expectSuccess()
        #expect(try imported.jsonObject()["appended"] as? Int == 5)
        // Importing again appends nothing (idempotent by id, beyond the append's recent-id window).
        let again = try await cli.run(["import", session, "--json"], stdin: export.stdout).expectSuccess()
        #expect(try again.jsonObject()["appended"] as? Int == 0)
        #expect(try again.jsonObject()["duplicates"] as? Int == 5)

        let reexport = try await cli.run(["export", session]).expectSuccess()
        #expect(reexport.stdout == export.stdout)
        }
    }

    @Test("sessions and stats list and summarise sessions; foreign entries are counted")
    func sessionsAndStats() async throws {
        let cli = try CLIHarness()
        let prefix = "cli-test-\(UUID().uuidString):"
        let one = cliSessionID("stats-one"), two = cliSessionID("stats-two")
        try await withCLICleanup(cli, deleting: [prefix + one, prefix + two]) { client in

        try await cli.run(["append", one, "--prefix", prefix, "--role", "user", "--content", "hello", "--ttl", "600"]).expectSuccess()
        try await cli.run(["append", one, "--prefix", prefix, "--role", "assistant", "--content", "hi there"]).expectSuccess()
        try await cli.run(["append", two, "--prefix", prefix, "--role", "user", "--content", "x"]).expectSuccess()
        try await client.send("RPUSH", prefix + one, "not a chat message")

        let sessions = try await cli.run(["sessions", "--prefix", prefix, "--json"]).expectSuccess()
        let ids = try #require(try JSONSerialization.jsonObject(with: sessions.stdout) as? [[String: String]]).compactMap { $0["id"] }
        #expect(ids == [one, two].sorted())
        #expect(try await cli.run(["sessions", "--prefix", prefix]).expectSuccess().output == [one, two].sorted().joined(separator: "\n") + "\n")

        let stats = try await cli.run(["stats", one, "--prefix", prefix, "--json"]).expectSuccess().jsonObject()
        #expect(stats["messages"] as? Int == 2)
        #expect(stats["skipped_entries"] as? Int == 1)
        #expect((stats["tokens"] as? Int ?? 0) > 0)
        #expect((stats["roles"] as? [String: Int]) == ["system": 0, "user": 1, "assistant": 1, "tool": 0])
        #expect((stats["ttl_ms"] as? Int).map { $0 > 500_000 && $0 <= 600_000 } == true)
        let readable = try await cli.run(["stats", one, "--prefix", prefix]).expectSuccess().output
        #expect(readable.contains("messages:        2") && readable.contains("skipped entries: 1"))

        let summary = try await cli.run(["stats", "--prefix", prefix, "--json"]).expectSuccess().jsonObject()
        #expect(summary["sessions"] as? Int == 2)
        #expect(summary["messages"] as? Int == 3)
        #expect(summary["expiring"] as? Int == 1)
        #expect(try await cli.run(["show", one, "--prefix", prefix]).expectSuccess().output.hasSuffix("(1 entry skipped: not chat messages)\n"))
        }
    }

    @Test("errors are one line on stderr with the right exit code, and never show a password")
    func errors() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("errors")

        let badURL = try await cli.run(["count", session, "--url", "http://nope"])
        #expect(badURL.status == 64)
        #expect(badURL.errorOutput.hasPrefix("chat-memory: error: invalid Redis URL"))
        let badEnvURL = try await cli.run(["count", session], environment: ["REDIS_URL": "redis://user:hunter2@127.0.0.1:notaport"])
        #expect(badEnvURL.status == 64)
        #expect(!badEnvURL.errorOutput.contains("hunter2"))
        let unreachable = try await cli.run(["count", session, "--url", "redis://user:hunter2@127.0.0.1:1"])
        #expect(unreachable.status == 1)
        #expect(unreachable.errorOutput.hasPrefix("chat-memory: error: "))
        #expect(!unreachable.errorOutput.contains("hunter2"))
        #expect(unreachable.errorOutput.split(separator: "\n").count == 1)

        let empty = try await cli.run(["show", ""])
        #expect(empty.status == 64)
        #expect(empty.errorOutput == "chat-memory: error: invalid session id: a session id must not be empty\n")
        let tooLong = try await cli.run(["count", String(repeating: "é", count: 257)])
        #expect(tooLong.status == 64)

        let role = try await cli.run(["append", session, "--role", "robot", "--content", "x"])
        #expect(role.status == 64)
        #expect(role.errorOutput.contains("robot"))
        let importRole = try await cli.run(["import", session], stdin: Data(#"{"id":"a","role":"robot","content":"x"}"#.utf8))
        #expect(importRole.status == 65)
        #expect(importRole.errorOutput.hasPrefix("chat-memory: error: line 1 is not a chat message"))

        let budget = try await cli.run(["window", session, "--tokens", "10", "--reserve", "11"])
        #expect(budget.status == 64)

        // A string at chat:<id> is someone else's key: every command refuses it, clear leaves it alone.
        let key = "chat:" + session
        try await withCLICleanup(cli, deleting: [key]) { client in
            try await client.send("SET", key, "not a list")
            for arguments in [["show", session], ["count", session], ["window", session, "--tokens", "100"],
                              ["append", session, "--role", "user", "--content", "x"], ["export", session],
                              ["clear", session], ["stats", session]] {
                let result = try await cli.run(arguments)
                #expect(result.status == 1, "\(result)")
                #expect(result.errorOutput == "chat-memory: error: the key \(key) holds another type of value, not a chat session list\n", "\(result)")
                #expect(result.stdout.isEmpty)
            }
            #expect(try await client.send("GET", key).string == "not a list")
        }
    }

    @Test("import with --max-messages is idempotent: a second run leaves the session byte for byte as it was",
          arguments: [7, 100])
    func importIdempotentWithCap(batchSize: Int) async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("import-cap")
        let messages = (1...100).map { ChatMessage(id: "m\($0)", role: $0 % 2 == 1 ? .user : .assistant, content: "message \($0)",
                                                   createdAt: Date(timeIntervalSince1970: 1_764_108_000 + Double($0))) }
        let input = try cliJSONLines(messages)
        let arguments = ["import", session, "--max-messages", "10", "--batch-size", "\(batchSize)", "--json"]
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
            let first = try await cli.run(arguments, stdin: input).expectSuccess().jsonObject()
            #expect(first["appended"] as? Int == 100)
            #expect(first["length"] as? Int == 10)
            let stored = try await client.send("LRANGE", "chat:" + session, 0, -1)
            let export = try await cli.run(["export", session]).expectSuccess().stdout
            #expect(export == (try cliJSONLines(Array(messages[90...]))))

            for _ in 0..<2 {
                let again = try await cli.run(arguments, stdin: input).expectSuccess().jsonObject()
                #expect(again["appended"] as? Int == 0)
                #expect(again["duplicates"] as? Int == 100)
                #expect(again["length"] as? Int == 10)
                #expect(try await client.send("LRANGE", "chat:" + session, 0, -1) == stored)
            }

            // An import cut short (its first 50 lines) and run again in full appends only what
            // is missing: the same 10 newest messages in the end.
            try await client.send("DEL", "chat:" + session)
            try await cli.run(arguments, stdin: try cliJSONLines(Array(messages[..<50]))).expectSuccess()
            let resumed = try await cli.run(arguments, stdin: input).expectSuccess().jsonObject()
            #expect(resumed["appended"] as? Int == 50)
            #expect(try await cli.run(["export", session]).expectSuccess().stdout == export)
        }
    }

    @Test("import skips ids repeated in the input and ids the session holds")
    func importSkipsHeldIDs() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("import-held")
        let at = Date(timeIntervalSince1970: 1_764_108_000)
        func message(_ id: String) -> ChatMessage { ChatMessage(id: id, role: .user, content: id, createdAt: at) }
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
            try await cli.run(["import", session], stdin: try cliJSONLines([message("a"), message("b")])).expectSuccess()
            // "a" is held and comes after "x": "x" counts as stored; "b" is held; "c" is new, once.
            let result = try await cli.run(["import", session, "--json"],
                                           stdin: try cliJSONLines([message("x"), message("a"), message("c"), message("b"), message("c")]))
            #expect(try result.expectSuccess().jsonObject()["appended"] as? Int == 1)
            let export = try await cli.run(["export", session]).expectSuccess().stdout
            #expect(export == (try cliJSONLines([message("a"), message("b"), message("c")])))
        }
    }

    @Test("eight processes importing 500 messages each into one session keep every message, once, in order")
    func concurrentProcesses() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("concurrent")
        let writers = 8, perWriter = 500
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
        var processes: [CLIRunningProcess] = []
        for writer in 0..<writers {
            let messages = (0..<perWriter).map { index in
                ChatMessage(id: "w\(writer)-\(index)", role: index % 2 == 0 ? .user : .assistant,
                            content: "writer \(writer) message \(index)", metadata: ["writer": "\(writer)"])
            }
            processes.append(try cli.start(["import", session, "--json", "--batch-size", "50", "--encoding", "approx"],
                                           stdin: try cliJSONLines(messages)))
        }
        for process in processes {
            let result = try await process.finish().expectSuccess()
            #expect(try result.jsonObject()["appended"] as? Int == perWriter)
        }

        let export = try await cli.run(["export", session]).expectSuccess()
        let messages = try export.stdout.split(separator: UInt8(ascii: "\n")).map { try ChatMessage(jsonData: Data($0)) }
        #expect(messages.count == writers * perWriter)
        #expect(Set(messages.map(\.id)).count == writers * perWriter)
        for writer in 0..<writers {
            let own = messages.filter { $0.metadata["writer"] == "\(writer)" }.map(\.id)
            #expect(own == (0..<perWriter).map { "w\(writer)-\($0)" }, "writer \(writer) out of order")
        }
        #expect(try await cli.run(["count", session]).expectSuccess().output == "\(writers * perWriter)\n")
        }
    }
}
