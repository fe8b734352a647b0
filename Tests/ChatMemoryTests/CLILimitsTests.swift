import Foundation
import ChatMemoryRedis
import Testing

/// Every number the CLI takes, and every stored number it sums, ends in a result or a usage
/// error: never a trap.
@Suite("chat-memory CLI: numbers")
struct CLILimitsTests {
    /// One line on standard error naming the option, exit 64, nothing on standard output.
    private func expectUsageError(_ result: CLIResult, mentioning option: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 64, "\(result)", sourceLocation: sourceLocation)
        #expect(result.errorOutput.hasPrefix("chat-memory: error: "), "\(result)", sourceLocation: sourceLocation)
        #expect(result.errorOutput.contains(option), "\(result)", sourceLocation: sourceLocation)
        #expect(result.errorOutput.split(separator: "\n").count == 1, "\(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(result)", sourceLocation: sourceLocation)
    }

    @Test("out-of-range numbers are usage errors (exit 64), never a trap", arguments: [
        ("append", ["--role", "user", "--content", "x", "--ttl"], "--ttl", ["9223372036854775807", "-9223372036854775808", "0", "-1", "3153600001"]),
        ("append", ["--role", "user", "--content", "x", "--max-messages"], "--max-messages", ["9223372036854775807", "0", "-1", "4294967296"]),
        ("append", ["--role", "user", "--content", "x", "--created-at"], "--created-at", ["9223372036854775807", "-9223372036854775808", "8640000000000001"]),
        ("import", ["--batch-size"], "--batch-size", ["9223372036854775807", "0", "-1", "10001"]),
        ("import", ["--max-messages"], "--max-messages", ["9223372036854775807", "0"]),
        ("import", ["--ttl"], "--ttl", ["9223372036854775807", "0"]),
        ("window", ["--policy", "llama-index", "--tokens"], "--tokens", ["9223372036854775807", "-9223372036854775808", "0", "-1", "1000000001"]),
        ("window", ["--tokens"], "--tokens", ["9223372036854775807", "0"]),
        ("window", ["--tokens", "100", "--reserve"], "--reserve", ["9223372036854775807", "-9223372036854775808", "-1", "101"]),
        ("show", ["--last"], "--last", ["-1", "-9223372036854775808"]),
    ] as [(String, [String], String, [String])])
    func outOfRange(command: String, options: [String], option: String, values: [String]) async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("limits")
        for value in values {
            // `--option=value` so that a negative value is not read as an option.
            var arguments = [command, session] + options
            arguments[arguments.count - 1] += "=\(value)"
            expectUsageError(try await cli.run(arguments, stdin: Data()), mentioning: option)
        }
        // Nothing was written.
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
            let exists = try await client.send("EXISTS", "chat:" + session).int
            #expect(exists == 0)
        }
    }

    @Test("numbers beyond Int are usage errors too")
    func beyondInt() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("beyond")
        expectUsageError(try await cli.run(["window", session, "--tokens", "99999999999999999999"]), mentioning: "--tokens")
        expectUsageError(try await cli.run(["append", session, "--role", "user", "--content", "x", "--ttl", "18446744073709551616"]), mentioning: "--ttl")
    }

    @Test("the largest accepted values work")
    func largestAccepted() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("largest")
        try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
            try await cli.run(["append", session, "--role", "user", "--content", "x", "--id", "a", "--ttl", "3153600000",
                               "--max-messages", "4294967295", "--created-at", "8640000000000000"]).expectSuccess()
            try await cli.run(["append", session, "--role", "user", "--content", "y", "--id", "b",
                               "--created-at=-8640000000000000"]).expectSuccess()
            #expect(try await client.send("TTL", "chat:" + session).int.map { $0 > 3_153_500_000 } == true)
            for policy in ["model-safe", "llama-index"] {
                let window = try await cli.run(["window", session, "--tokens", "1000000000", "--reserve", "1000000000",
                                                "--policy", policy, "--json"])
                // A zero budget is refused by model-safe (the newest message does not fit) and
                // gives the newest message alone with llama-index: either way, no trap.
                #expect(window.status == 0 || window.status == 1, "\(window)")
                try await cli.run(["window", session, "--tokens", "1000000000", "--policy", policy]).expectSuccess()
            }
            try await cli.run(["import", session, "--batch-size", "10000"], stdin: Data()).expectSuccess()
            try await cli.run(["show", session, "--last", "9223372036854775807"]).expectSuccess()
            let stats = try await cli.run(["stats", session, "--json"]).expectSuccess().jsonObject()
            #expect(stats["oldest"] as? Int == -8_640_000_000_000_000)
            #expect(stats["newest"] as? Int == 8_640_000_000_000_000)
        }
    }

    @Test("stats of stored counts of 5e18 tokens: the sums stop at Int.max instead of overflowing")
    func storedTokenOverflow() async throws {
        let cli = try CLIHarness()
        let prefix = "cli-test-\(UUID().uuidString):"
        let one = "overflow-one", two = "overflow-two"
        func entry(_ id: String) -> String {
            #"{"id":"\#(id)","v":1,"tokens":5000000000000000000,"counter":"cl100k_base","message":{"id":"\#(id)","role":"user","content":"x"}}"#
        }
        try await withCLICleanup(cli, deleting: [prefix + one, prefix + two]) { client in
            try await client.send("LPUSH", prefix + one, entry("f1"), entry("f2"))
            try await client.send("LPUSH", prefix + two, entry("f3"), entry("f4"))
            let single = try await cli.run(["stats", one, "--prefix", prefix, "--json"]).expectSuccess().jsonObject()
            #expect(single["messages"] as? Int == 2)
            #expect((single["tokens"] as? Int).map { $0 >= 0 } == true)
            try await cli.run(["stats", one, "--prefix", prefix]).expectSuccess()
            let all = try await cli.run(["stats", "--prefix", prefix, "--json"]).expectSuccess().jsonObject()
            #expect(all["sessions"] as? Int == 2)
            #expect(all["messages"] as? Int == 4)
            #expect((all["tokens"] as? Int).map { $0 >= 0 } == true)
            try await cli.run(["stats", "--prefix", prefix]).expectSuccess()
        }
    }
}
