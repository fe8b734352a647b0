import ChatMemory
import Foundation
import Testing

@Suite struct CLITranscriptTests {
    @Test("transcript prints archived messages, the summary and the session; truncate removes the newest")
    func transcriptAndTruncate() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("transcript")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
            let lines = (0..<30).map { index in
                #"{"id":"m\#(index)","role":"\#(index.isMultiple(of: 2) ? "user" : "assistant")","content":"Turn \#(index) says hello.","created_at":1764108063000}"#
            }
            try await cli.run(["import", session], stdin: Data(lines.joined(separator: "\n").utf8)).expectSuccess()
            try await cli.run(["compact", session, "--target-tokens", "0"]).expectSuccess()

            // One line per entry, the summary's text lines indented under it.
            let output = try await cli.run(["transcript", session]).expectSuccess().output
            let whole = output.split(separator: "\n").filter { $0.hasPrefix("[") }
            #expect(whole.count == 31)
            #expect(whole[0].contains("] (archived) user: Turn 0 says hello."), "\(whole[0])")
            #expect(whole[12].contains("] (archived) user: Turn 12 says hello."), "\(whole[12])")
            #expect(whole[13].contains("] summary (of 13 messages): "), "\(whole[13])")
            #expect(whole[14].contains("] assistant: Turn 13 says hello.") && !whole[14].contains("archived"), "\(whole[14])")
            #expect(whole[30].contains("] assistant: Turn 29 says hello."))

            let json = try await cli.run(["transcript", session, "--json"]).expectSuccess().jsonObject()
            let entries = try #require(json["entries"] as? [[String: Any]])
            #expect(entries.count == 31 && json["total"] as? Int == 30 && json["start"] as? Int == 0 && json["end"] as? Int == 30)
            #expect(entries[0]["archived"] as? Bool == true && (entries[0]["message"] as? [String: Any])?["id"] as? String == "m0")
            #expect((entries[13]["summary"] as? [String: Any])?["covered_message_count"] as? Int == 13)

            let page = try await cli.run(["transcript", session, "--from", "10", "--limit", "5"]).expectSuccess().output.split(separator: "\n")
            #expect(page.filter { $0.hasPrefix("[") }.count == 6, "\(page)")   // 3 archived, the summary, 2 more
            #expect(page.suffix(2) == ["previous: 10", "next: 15"])
            let newest = try await cli.run(["transcript", session, "--before", "end", "--limit", "5", "--json"]).expectSuccess().jsonObject()
            #expect(newest["start"] as? Int == 25 && newest["end"] as? Int == 30)

            let truncated = try await cli.run(["truncate", session, "--after", "m27"]).expectSuccess()
            #expect(truncated.output == "removed 2 messages after m27\n")
            let after = try await cli.run(["transcript", session, "--json"]).expectSuccess().jsonObject()
            #expect(after["total"] as? Int == 28)
            #expect(try await cli.run(["truncate", session, "--after", "m3"]).status == 65, "an archived message is no anchor")
            #expect(try await cli.run(["truncate", session, "--after", "nobody"]).status == 65)
            #expect(try await cli.run(["truncate", cliSessionID("empty"), "--after", "m1"]).status == 65)

            for bad in [["--from", "-1"], ["--from", "1", "--before", "2"], ["--limit", "0"], ["--limit", "1001"], ["--before", "x"]] {
                #expect(try await cli.run(["transcript", session] + bad).status == 64, "\(bad)")
            }
            #expect(try await cli.run(["truncate", session, "--after", ""]).status == 64)
            try await cli.run(["clear", session]).expectSuccess()
        }
    }

    @Test("window --format prints the window as a model request's messages")
    func windowFormats() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("format")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
            let lines = [
                #"{"id":"s","role":"system","content":"Be terse."}"#,
                #"{"id":"u","role":"user","content":"Oslo?"}"#,
                #"{"id":"a","role":"assistant","tool_calls":[{"id":"c1","name":"weather","arguments":"{\"city\":\"Oslo\"}"}]}"#,
                #"{"id":"t","role":"tool","content":"3 °C","tool_call_id":"c1"}"#,
                #"{"id":"b","role":"assistant","content":"3 °C."}"#,
            ]
            try await cli.run(["import", session], stdin: Data(lines.joined(separator: "\n").utf8)).expectSuccess()
            let chat = try await cli.run(["window", session, "--tokens", "1000", "--format", "openai-chat"]).expectSuccess()
            let messages = try #require(try JSONSerialization.jsonObject(with: Data(chat.output.utf8)) as? [[String: Any]])
            #expect(messages.map { $0["role"] as? String } == ["system", "user", "assistant", "tool", "assistant"])
            #expect(messages[2]["content"] is NSNull && (messages[2]["tool_calls"] as? [Any])?.count == 1)
            let responses = try await cli.run(["window", session, "--tokens", "1000", "--format", "openai-responses"]).expectSuccess()
            let items = try #require(try JSONSerialization.jsonObject(with: Data(responses.output.utf8)) as? [[String: Any]])
            #expect(items.map { $0["type"] as? String } == ["message", "message", "function_call", "function_call_output", "message"])
            let anthropic = try await cli.run(["window", session, "--tokens", "1000", "--format", "anthropic"]).expectSuccess().jsonObject()
            #expect(anthropic["system"] as? String == "Be terse." && (anthropic["messages"] as? [Any])?.count == 4)

            let broken = #"{"id":"x","role":"assistant","tool_calls":[{"id":"c2","name":"f","arguments":"[1]"}]}"#
            try await cli.run(["import", session], stdin: Data(broken.utf8)).expectSuccess()
            // With --format anthropic the window is Anthropic-safe: a call without its result ends the session.
            let running = try await cli.run(["window", session, "--tokens", "1000", "--format", "anthropic"])
            #expect(running.status == 1 && running.errorOutput.contains("tool call c2 of message x has no result yet"), "\(running)")
            #expect(try await cli.run(["window", session, "--tokens", "1000", "--format", "anthropic", "--policy", "model-safe"]).status == 65)
            #expect(try await cli.run(["window", session, "--tokens", "1000", "--format", "gemini"]).status == 64)
            #expect(try await cli.run(["window", session, "--tokens", "1000", "--format", "anthropic", "--json"]).status == 64)
        }
    }
}
