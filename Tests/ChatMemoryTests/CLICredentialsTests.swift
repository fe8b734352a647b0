import Foundation
import ChatMemoryRedis
import Testing

/// The password reaches the server from REDIS_PASSWORD, REDIS_PASSWORD_FILE or --password-file
/// (off the command line, where `ps` shows it), and never appears in any output.
@Suite("chat-memory CLI: credentials")
struct CLICredentialsTests {
    /// A password with every character that URLs treat specially.
    static let password = "Kx9/Qw@Vb:Jm%zzPt"
    static let userPassword = "Ua7@Hy/Rn:Lc"

    /// Fails when any 4 consecutive characters of a password appear in the run's output.
    private func expectNoSecret(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = result.output + result.errorOutput
        for secret in [Self.password, Self.userPassword, Self.password + "X"] {
            let characters = Array(secret)
            for start in 0...(characters.count - 4) {
                let fragment = String(characters[start..<start + 4])
                #expect(!text.contains(fragment), "'\(fragment)' of a password shown: \(result)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Runs `body` with a private server that requires `password` and has the ACL user `cliuser`.
    private func withServer(_ body: (PrivateRedisServer) async throws -> Void) async throws {
        let server = try await PrivateRedisServer.start(["--requirepass", Self.password])
        do {
            let client = RedisClient(configuration: RedisConfiguration(
                endpoint: .unixSocket(path: server.socket), credentials: .init(password: Self.password)))
            do {
                try await client.send("ACL", "SETUSER", "cliuser", "on", ">" + Self.userPassword, "~*", "&*", "+@all")
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func passwordFile(_ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cli-password-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        return url
    }

    @Test("the password comes from REDIS_PASSWORD, REDIS_PASSWORD_FILE or --password-file; the user from REDIS_USERNAME")
    func passwordSources() async throws {
        let cli = try CLIHarness()
        try await withServer { server in
            let unixURL = "unix://\(server.socket)"
            let session = cliSessionID("credentials")
            // From the environment, with the URL in the environment too: nothing secret in argv.
            let appended = try await cli.run(["append", session, "--role", "user", "--content", "hi", "--json"],
                                             environment: ["REDIS_URL": unixURL, "REDIS_PASSWORD": Self.password])
            appended.expectSuccess()
            #expect(try appended.jsonObject()["length"] as? Int == 1)
            expectNoSecret(appended)

            // From a file, with and without a trailing newline (also \r\n).
            let files = try ["\n", "", "\r\n"].map { try passwordFile(Self.password + $0) }
            defer { for file in files { try? FileManager.default.removeItem(at: file) } }
            for file in files {
                let count = try await cli.run(["count", session, "--password-file", file.path], environment: ["REDIS_URL": unixURL])
                #expect(count.expectSuccess().output == "1\n")
            }
            // Over TCP with the URL's host and port, the password from the file.
            let tcp = try await cli.run(["count", session, "--url", "redis://127.0.0.1:\(server.port)", "--password-file", files[0].path])
            #expect(tcp.expectSuccess().output == "1\n")

            // An ACL user.
            let user = try await cli.run(["count", session],
                                         environment: ["REDIS_URL": unixURL, "REDIS_USERNAME": "cliuser", "REDIS_PASSWORD": Self.userPassword])
            #expect(user.expectSuccess().output == "1\n")

            // REDIS_PASSWORD_FILE.
            let environmentFile = try await cli.run(["count", session], environment: ["REDIS_URL": unixURL, "REDIS_PASSWORD_FILE": files[0].path])
            #expect(environmentFile.expectSuccess().output == "1\n")

            // Precedence: --password-file over REDIS_PASSWORD and REDIS_PASSWORD_FILE, which win over the URL.
            let fileWins = try await cli.run(["count", session, "--password-file", files[0].path],
                                             environment: ["REDIS_URL": unixURL, "REDIS_PASSWORD": "wrong", "REDIS_PASSWORD_FILE": "/nonexistent"])
            #expect(fileWins.expectSuccess().output == "1\n")
            let environmentWins = try await cli.run(["count", session, "--url", "redis://:wrong@127.0.0.1:\(server.port)"],
                                                    environment: ["REDIS_PASSWORD": Self.password])
            #expect(environmentWins.expectSuccess().output == "1\n")

            // In the URL, percent-encoded (the form to use there) or raw: the URL ends its user
            // information at the last '@'.
            let encoded = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let percent = try await cli.run(["count", session], environment: ["REDIS_URL": "redis://:\(encoded)@127.0.0.1:\(server.port)"])
            #expect(percent.expectSuccess().output == "1\n")
            let raw = try await cli.run(["count", session],
                                        environment: ["REDIS_URL": "redis://cliuser:\(Self.userPassword)@127.0.0.1:\(server.port)"])
            #expect(raw.expectSuccess().output == "1\n")
        }
    }

    @Test("no error shows a password: wrong password, refused connection, malformed URLs")
    func noPasswordInErrors() async throws {
        let cli = try CLIHarness()
        let session = cliSessionID("secret-errors")
        try await withServer { server in
            let unixURL = "unix://\(server.socket)"
            let wrongFile = try passwordFile(Self.password + "X")
            defer { try? FileManager.default.removeItem(at: wrongFile) }
            let encoded = Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let cases: [(String, [String], [String: String?], Int32)] = [
                ("wrong password", ["count", session], ["REDIS_URL": unixURL, "REDIS_PASSWORD": Self.password + "X"], 1),
                ("wrong password file", ["count", session, "--password-file", wrongFile.path], ["REDIS_URL": unixURL], 1),
                ("wrong user password", ["count", session], ["REDIS_URL": unixURL, "REDIS_USERNAME": "cliuser", "REDIS_PASSWORD": Self.password], 1),
                ("no password", ["count", session], ["REDIS_URL": unixURL], 1),
                ("a password the server does not want", ["count", session], ["REDIS_PASSWORD": Self.password], 1),
                ("refused", ["count", session, "--url", "redis://u:\(encoded)@127.0.0.1:1"], [:], 1),
                ("refused, raw", ["count", session, "--url", "redis://u:\(Self.userPassword)@127.0.0.1:1"], [:], 1),
                ("refused, environment", ["count", session], ["REDIS_URL": "redis://:\(encoded)@127.0.0.1:1"], 1),
                ("bad percent-encoding", ["count", session, "--url", "redis://u:\(Self.password)@127.0.0.1:\(server.port)"], [:], 64),
                ("bad percent-encoding, environment", ["count", session], ["REDIS_URL": "redis://:\(Self.password)@127.0.0.1:1"], 64),
                ("bad port", ["count", session, "--url", "redis://u:\(Self.userPassword)@127.0.0.1:notaport"], [:], 64),
                ("bad database", ["count", session, "--url", "redis://u:\(Self.userPassword)@127.0.0.1/x"], [:], 64),
                ("no colon", ["count", session, "--url", "redis://\(Self.userPassword.replacingOccurrences(of: ":", with: ""))@127.0.0.1"], [:], 64),
                ("query", ["count", session, "--url", "redis://:\(Self.userPassword)@127.0.0.1?x=1"], [:], 64),
                ("other scheme", ["count", session, "--url", "rediss://:\(Self.userPassword)@127.0.0.1"], [:], 64),
                ("no scheme", ["count", session, "--url", "u:\(Self.userPassword)@127.0.0.1"], [:], 64),
                ("user without password", ["count", session], ["REDIS_URL": unixURL, "REDIS_USERNAME": "cliuser"], 64),
                ("both password variables", ["count", session],
                 ["REDIS_URL": unixURL, "REDIS_PASSWORD": Self.password, "REDIS_PASSWORD_FILE": wrongFile.path], 64),
            ]
            for (label, arguments, environment, status) in cases {
                let result = try await cli.run(arguments, environment: environment)
                #expect(result.status == status, "\(label): \(result)")
                #expect(result.errorOutput.hasPrefix("chat-memory: error: "), "\(label): \(result)")
                #expect(result.errorOutput.split(separator: "\n").count == 1, "\(label): \(result)")
                #expect(result.stdout.isEmpty, "\(label): \(result)")
                expectNoSecret(result)
            }
            let missing = try await cli.run(["count", session, "--password-file", "/nonexistent/\(UUID().uuidString)"])
            #expect(missing.status == 64)
            #expect(missing.errorOutput.hasPrefix("chat-memory: error: cannot open REDIS_PASSWORD_FILE '/nonexistent/"))
            let empty = try passwordFile("\n")
            defer { try? FileManager.default.removeItem(at: empty) }
            let emptyResult = try await cli.run(["count", session, "--password-file", empty.path])
            #expect(emptyResult.status == 64)
            #expect(emptyResult.errorOutput.contains("is empty"))
        }
    }

    @Test("--help says how to keep the password off the command line")
    func help() async throws {
        let cli = try CLIHarness()
        let help = try await cli.run(["count", "--help"]).expectSuccess().output
        #expect(help.contains("--password-file"))
        #expect(help.contains("REDIS_PASSWORD"))
        #expect(help.contains("REDIS_USERNAME"))
        #expect(help.contains("REDIS_PASSWORD_FILE"))
    }
}
