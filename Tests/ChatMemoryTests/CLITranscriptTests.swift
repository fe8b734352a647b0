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
}
