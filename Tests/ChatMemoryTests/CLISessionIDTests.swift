import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// Every session `sessions` lists can be addressed: --hex takes any bytes, and an argument that
/// would arrive repaired (not UTF-8) is refused instead of naming a different session.
@Suite("chat-memory CLI: session ids")
struct CLISessionIDTests {
    private static func entry(_ id: String) -> String {
        #"{"id":"\#(id)","role":"user","content":"in \#(id)"}"#
    }

    @Test("ids with 0xFF, NUL and \\r\\n are listed with their --hex form and reached with --hex")
    func hexIDs() async throws {
        let cli = try CLIHarness()
        let prefix = "cli-test-\(UUID().uuidString):"
        let invalid: [UInt8] = [0x61, 0xFF, 0x62]            // a, 0xFF, b: not UTF-8
        let repaired = Array("a\u{FFFD}b".utf8)             // what a repaired argument would name
        let nul: [UInt8] = [0x61, 0x00, 0x62]
        let crlf = Array("a\r\nb".utf8)
        let plain = Array("plain id".utf8)
        let all = [invalid, repaired, nul, crlf, plain]
        let keys = all.map { Array(prefix.utf8) + $0 }
        try await withCLICleanup(cli, deleting: keys) { client in
            for (index, key) in keys.enumerated() { try await client.send("RPUSH", key, Self.entry("m\(index)")) }

            // JSON: every id with its hex form.
            let listed = try await cli.run(["sessions", "--prefix", prefix, "--json"]).expectSuccess()
            let objects = try #require(try JSONSerialization.jsonObject(with: listed.stdout) as? [[String: String]])
            #expect(Set(objects.compactMap { $0["hex"] }) == Set(all.map(hexString)))

            // Readable: an id that cannot be typed back as shown carries its --hex form.
            let lines = try await cli.run(["sessions", "--prefix", prefix]).expectSuccess().output.split(separator: "\n").map(String.init)
            #expect(lines.contains("a\u{FFFD}b  (--hex 61ff62)"))
            #expect(lines.contains("a\\u{0}b  (--hex 610062)"))
            #expect(lines.contains("a\\r\\nb  (--hex 610d0a62)"))
            #expect(lines.contains("plain id"))
            #expect(lines.contains("a\u{FFFD}b"))   // the valid UTF-8 id with U+FFFD in it

            // Each one is reached with --hex, and only that one.
            for (index, id) in all.enumerated() {
                for command in ["show", "export", "count"] {
                    let result = try await cli.run([command, "--prefix", prefix, "--hex", hexString(id)]).expectSuccess()
                    #expect(command == "count" ? result.output == "1\n" : result.output.contains("in m\(index)"), "\(result)")
                }
                let stats = try await cli.run(["stats", hexString(id).uppercased(), "--hex", "--prefix", prefix, "--json"]).expectSuccess()
                #expect(try stats.jsonObject()["messages"] as? Int == 1)
                #expect((try stats.jsonObject()["session"] as? [String: String])?["hex"] == hexString(id))
            }
            let window = try await cli.run(["window", "--prefix", prefix, "--hex", "610062", "--tokens", "100", "--json"]).expectSuccess()
            #expect(window.output.contains("in m2"))
            let appended = try await cli.run(["append", "--prefix", prefix, "--hex", "61ff62", "--role", "assistant", "--content", "ok", "--json"])
            #expect(try appended.expectSuccess().jsonObject()["length"] as? Int == 2)
            let imported = try await cli.run(["import", "--prefix", prefix, "--hex", "610062", "--json"],
                                             stdin: Data((Self.entry("n1") + "\n").utf8))
            #expect(try imported.expectSuccess().jsonObject()["length"] as? Int == 2)
            // \r\n also works as text.
            #expect(try await cli.run(["count", "--prefix", prefix, "a\r\nb"]).expectSuccess().output == "1\n")

            // clear --hex removes exactly that session.
            let cleared = try await cli.run(["clear", "--prefix", prefix, "--hex", "61ff62", "--json"]).expectSuccess()
            #expect(try cleared.jsonObject()["cleared"] as? Bool == true)
            #expect(try await client.send("EXISTS", keys[0]).int == 0)
            #expect(try await client.send("EXISTS", keys[1]).int == 1)
            #expect(try await client.send("EXISTS", keys[2]).int == 1)
        }
    }

    @Test("an argument that is not UTF-8 is refused (exit 64), never a repaired, different session")
    func rawBytesRefused() async throws {
        let cli = try CLIHarness()
        let prefix = "cli-test-\(UUID().uuidString):"
        let repairedKey = Array(prefix.utf8) + Array("a\u{FFFD}b".utf8)
        try await withCLICleanup(cli, deleting: [repairedKey]) { client in
            try await client.send("RPUSH", repairedKey, Self.entry("r1"))

            for command in ["show", "count", "clear", "export", "stats", "window --tokens 100",
                            "append --role user --content x", "import"] {
                let result = try await cli.runShell(#""$CLI" \#(command) --prefix "$1" $'a\xffb' </dev/null"#, arguments: [prefix])
                #expect(result.status == 64, "\(command): \(result)")
                #expect(result.errorOutput.hasPrefix("chat-memory: error: "), "\(command): \(result)")
                #expect(result.errorOutput.contains("--hex 61ff62"), "\(command): \(result)")
                #expect(result.errorOutput.split(separator: "\n").count == 1, "\(command): \(result)")
                #expect(result.stdout.isEmpty, "\(command): \(result)")
            }
            // The session the repaired text would name is untouched.
            #expect(try await client.send("LLEN", repairedKey).int == 1)
        }
    }

    @Test("malformed --hex values are usage errors", arguments: ["", "6", "6g", "zz", "0x61", "61 62", String(repeating: "61", count: 513)])
    func badHex(_ value: String) async throws {
        let cli = try CLIHarness()
        for arguments in [["show", "--hex", value], ["stats", value, "--hex"]] {
            let result = try await cli.run(arguments)
            #expect(result.status == 64, "\(result)")
            #expect(result.errorOutput.hasPrefix("chat-memory: error: "), "\(result)")
            #expect(result.errorOutput.split(separator: "\n").count == 1, "\(result)")
        }
        let noSession = try await cli.run(["stats", "--hex"])
        #expect(noSession.status == 64)
    }
}

/// Bytes as lowercase hex.
private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
