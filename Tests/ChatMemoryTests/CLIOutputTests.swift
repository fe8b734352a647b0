import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// Standard output that goes away or fails: the CLI ends quietly (a closed pipe) or with one
/// error line (a full disk, a closed descriptor), never with a crash.
@Suite("chat-memory CLI: standard output")
struct CLIOutputTests {
    /// 2,000 messages of 300 bytes: far more than a pipe's buffer, so the reader of a pipe
    /// that stops early is gone before the CLI has written everything.
    private func bigSession(_ cli: CLIHarness, _ session: String) async throws {
        let messages = (0..<2_000).map { ChatMessage(id: "m\($0)", role: .user, content: String(repeating: "x", count: 300)) }
        try await cli.run(["import", session, "--encoding", "approx"], stdin: try cliJSONLines(messages)).expectSuccess()
    }

    @Test("a reader that closes the pipe early ends the CLI quietly with status 0")
    func closedPipe() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("pipe")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
            try await bigSession(cli, session)
            // Each line of standard output is "<case> <the CLI's own exit status>".
            let result = try await cli.runShell(#"""
                "$CLI" show "$1" | head -1 >/dev/null; echo "show ${PIPESTATUS[0]}"
                "$CLI" show "$1" --verbose | head -c 20 >/dev/null; echo "show-verbose ${PIPESTATUS[0]}"
                "$CLI" show "$1" --json | head -c 20 >/dev/null; echo "show-json ${PIPESTATUS[0]}"
                "$CLI" export "$1" | head -c 20 >/dev/null; echo "export ${PIPESTATUS[0]}"
                "$CLI" export "$1" | head -0; echo "export-head-0 ${PIPESTATUS[0]}"
                "$CLI" window "$1" --tokens 1000000000 | head -1 >/dev/null; echo "window ${PIPESTATUS[0]}"
                "$CLI" window "$1" --tokens 1000000000 --json | head -c 1 >/dev/null; echo "window-json ${PIPESTATUS[0]}"
                """#, arguments: [session])
            #expect(result.status == 0, "\(result)")
            #expect(result.output == "show 0\nshow-verbose 0\nshow-json 0\nexport 0\nexport-head-0 0\nwindow 0\nwindow-json 0\n", "\(result)")
            #expect(result.errorOutput.isEmpty, "\(result)")
        }
    }

    @Test("stored text cannot drive the terminal: carriage returns, escapes and bidi overrides are shown escaped")
    func hostileContentIsEscaped() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("escape")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { redis in
            let forged = #"{"id":"r1","role":"user","content":"carriage\r[2099-01-01 00:00:00] assistant: I approve\u001b[31m red \u202e evil","metadata":{"k\ney":"v"}}"#
            try await redis.send("LPUSH", "chat:" + session, forged)
            let shown = try await cli.run(["show", session, "--verbose"]).expectSuccess()
            #expect(!shown.output.contains("\r") && !shown.output.contains("\u{1b}") && !shown.output.contains("\u{202e}"))
            #expect(shown.output.contains(#"carriage\u{d}[2099-01-01 00:00:00] assistant: I approve\u{1b}[31m red \u{202e} evil"#), "\(shown.output)")
            #expect(shown.output.contains(#"k\u{a}ey=v"#), "\(shown.output)")
            #expect(shown.output.split(separator: "\n").count == 2, "\(shown.output)")
        }
    }

    @Test("sessions | head -0 on a long list ends quietly with status 0")
    func closedPipeSessions() async throws {
        let cli = try CLIHarness()
        let prefix = "cli-test-\(UUID().uuidString):"
        // 1,000 ids of 100 bytes: about 100 kB of output.
        let ids = (0..<1_000).map { String(format: "%04d-", $0) + String(repeating: "s", count: 95) }
        try await withCLICleanup(cli, deleting: ids.map { prefix + $0 }) { client in
            let pushes = ids.map { RedisCommand("LPUSH", [prefix + $0, #"{"id":"1","role":"user","content":"hi"}"#] as [any RedisArgument]) }
            for result in try await client.pipeline(pushes) { _ = try result.get() }
            let result = try await cli.runShell(#"""
                "$CLI" sessions --prefix "$1" | head -0; echo "sessions ${PIPESTATUS[0]}"
                "$CLI" sessions --prefix "$1" --json | head -c 10 >/dev/null; echo "sessions-json ${PIPESTATUS[0]}"
                """#, arguments: [prefix])
            #expect(result.output == "sessions 0\nsessions-json 0\n", "\(result)")
            #expect(result.errorOutput.isEmpty, "\(result)")
        }
    }

    @Test("a full disk or a closed standard output is one error line and exit 1")
    func failingOutput() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("full")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
            try await bigSession(cli, session)
            for command in ["export", "show"] {
                let full = try await cli.runShell(#""$CLI" "$1" "$2" >/dev/full"#, arguments: [command, session])
                #expect(full.status == 1, "\(full)")
                #expect(full.errorOutput == "chat-memory: error: cannot write to standard output: No space left on device\n", "\(full)")
                // A closed descriptor 1 is held on /dev/null at startup, so the Redis
                // connection cannot take its number and receive the output.
                let closed = try await cli.runShell(#""$CLI" "$1" "$2" >&-"#, arguments: [command, session])
                #expect(closed.status == 1, "\(closed)")
                #expect(closed.errorOutput == "chat-memory: error: cannot write to standard output: it is closed\n", "\(closed)")
            }
            #expect(try await client.send("LLEN", "chat:" + session).int == 2_000)
        }
    }
}
