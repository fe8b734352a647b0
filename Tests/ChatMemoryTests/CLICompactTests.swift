import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

@Suite struct CLICompactTests {
    @Test("compact folds the oldest messages with the extractive summariser; show marks the summary")
    func compactAndShow() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("compact")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
            let lines = (0..<30).map { index in
                #"{"id":"m\#(index)","role":"\#(index.isMultiple(of: 2) ? "user" : "assistant")","content":"Turn \#(index) says hello. More text follows.","created_at":1764108063000}"#
            }
            try await cli.run(["import", session], stdin: Data(lines.joined(separator: "\n").utf8)).expectSuccess()

            let compacted = try await cli.run(["compact", session, "--target-tokens", "0", "--json"]).expectSuccess()
            let result = try compacted.jsonObject()
            #expect(result["outcome"] as? String == "compacted" && result["removed_entries"] as? Int == 13)
            let summary = try #require(result["summary"] as? [String: Any])
            #expect(summary["covers"] as? [String] == (0..<13).map { "m\($0)" })
            #expect((summary["text"] as? String)?.hasPrefix("user: Turn 0 says hello.\nassistant: Turn 1 says hello.") == true)

            let shown = try await cli.run(["show", session]).expectSuccess()
            let first = try #require(shown.output.split(separator: "\n").first)
            #expect(first.contains("] summary (of 13 messages): user: Turn 0 says hello."), "\(first)")
            #expect(shown.output.contains("] user: Turn 14 says hello."))
            let json = try await cli.run(["show", session, "--json"]).expectSuccess().jsonObject()
            #expect((json["summary"] as? [String: Any])?["covered_message_count"] as? Int == 13)
            #expect((json["messages"] as? [Any])?.count == 18)

            let nothing = try await cli.run(["compact", session, "--target-tokens", "0"]).expectSuccess()
            #expect(nothing.output.hasPrefix("nothing to compact"))
            let usage = try await cli.run(["compact", session, "--target-tokens", "-1"])
            #expect(usage.status == 64)
            let huge = try await cli.run(["compact", session, "--max-summary-characters", "99999999999999999999"])
            #expect(huge.status == 64)
        }
    }
}
