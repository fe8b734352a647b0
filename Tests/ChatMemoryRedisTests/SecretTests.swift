import Foundation
import Logging
import ChatMemoryRedis
import Testing

/// The password never shows: not in an error (description, debugDescription, localizedDescription,
/// dump), not in a configuration or its credentials (description, dump, Mirror), not in any log
/// line or metadata at trace level. Every error path is driven with a password made of distinct
/// random pieces joined by `/`, `@`, `:` and `%`, and no piece may appear anywhere.
@Suite struct SecretTests {
    /// A password whose pieces are each unique, so a partial leak is caught too.
    struct Secret {
        let pieces = (0..<5).map { _ in "pw" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12) }
        /// The password itself: `a/b@c:d%e`.
        var password: String { "\(pieces[0])/\(pieces[1])@\(pieces[2]):\(pieces[3])%\(pieces[4])" }
        /// As written in a URL: `/`, `@` and `:` as they are, `%` encoded.
        var inURL: String { "\(pieces[0])/\(pieces[1])@\(pieces[2]):\(pieces[3])%25\(pieces[4])" }

        /// Fails the test if any piece of the password is in `text`.
        func expectAbsent(from text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            for piece in pieces where text.contains(piece) {
                Issue.record("a piece of the password is in \(what): \(text)", sourceLocation: sourceLocation)
            }
        }

        /// Checks every way to print an error.
        func expectAbsent(fromError error: any Error, sourceLocation: SourceLocation = #_sourceLocation) {
            expectAbsent(from: "\(error)", "description", sourceLocation: sourceLocation)
            expectAbsent(from: String(reflecting: error), "debugDescription", sourceLocation: sourceLocation)
            expectAbsent(from: error.localizedDescription, "localizedDescription", sourceLocation: sourceLocation)
            expectAbsent(from: dumped(error), "dump", sourceLocation: sourceLocation)
            if let error = error as? RedisError {
                expectAbsent(from: error.message, "message", sourceLocation: sourceLocation)
                #expect(error.localizedDescription == error.description, sourceLocation: sourceLocation)
            }
        }

        /// Checks a configuration and its credentials, printed, dumped and reflected.
        func expectAbsent(fromConfiguration configuration: RedisConfiguration, sourceLocation: SourceLocation = #_sourceLocation) {
            for (text, what) in [
                ("\(configuration)", "description"), (String(reflecting: configuration), "debugDescription"),
                (dumped(configuration), "dump"), (mirrored(configuration), "Mirror"),
                ("\(configuration.credentials as Any)", "credentials"), (String(reflecting: configuration.credentials), "credentials debugDescription"),
                (dumped(configuration.credentials as Any), "credentials dump"), (mirrored(configuration.credentials as Any), "credentials Mirror"),
            ] {
                expectAbsent(from: text, what, sourceLocation: sourceLocation)
            }
        }
    }

    @Test func urlsWithThePasswordParseAndNeverShowIt() throws {
        let secret = Secret()
        for url in [
            "redis://user:\(secret.inURL)@127.0.0.1:6379", "redis://:\(secret.inURL)@127.0.0.1/2",
            "redis://user:\(secret.inURL)@[::1]:7000/1", "unix://user:\(secret.inURL)@/run/redis.sock?db=1",
        ] {
            let configuration = try RedisConfiguration(url: url)
            #expect(configuration.credentials?.password == secret.password)
            secret.expectAbsent(fromConfiguration: configuration)
        }
    }

    @Test func malformedURLsWithThePasswordNeverShowIt() {
        let secret = Secret()
        let raw = secret.password
        let urls = [
            "redis://user:\(secret.inURL)@127.0.0.1:abc", "redis://user:\(secret.inURL)@127.0.0.1:0",
            "redis://user:\(secret.inURL)@127.0.0.1/x", "redis://user:\(secret.inURL)@127.0.0.1/-1",
            "redis://user:\(secret.inURL)@127.0.0.1/2147483648", "redis://user:\(secret.inURL)@",
            "redis://user:\(raw)@127.0.0.1",  // an unencoded '%' is a bad escape
            "redis://\(secret.inURL.replacingOccurrences(of: ":", with: ""))@127.0.0.1",  // no ':' at all
            "redis://user:\(secret.inURL)@127.0.0.1?timeout=1", "redis://user:\(secret.inURL)@[::1",
            "rediss://user:\(secret.inURL)@127.0.0.1:0", "http://user:\(secret.inURL)@127.0.0.1",
            "user:\(secret.inURL)@127.0.0.1:6379", "\(secret.inURL)://127.0.0.1",
            "user:\(secret.inURL)@redis://127.0.0.1", "unix://user:\(secret.inURL)@relative.sock",
            "unix://user:\(secret.inURL)@/tmp/r.sock?pass=1", "redis://user:\(secret.inURL)%@127.0.0.1",
            "redis://user:\(secret.inURL)%zz@127.0.0.1", "redis://user:\(secret.inURL)%C3@127.0.0.1",
        ]
        for url in urls {
            do {
                let parsed = try RedisConfiguration(url: url)
                Issue.record("\(url) should not parse; got \(parsed)")
            } catch {
                #expect((error as? RedisError)?.code == .invalidConfiguration)
                secret.expectAbsent(fromError: error)
            }
        }
    }

    @Test func environmentPasswordNeverShows() throws {
        let secret = Secret()
        let configuration = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://127.0.0.1", "REDIS_PASSWORD": secret.password])
        #expect(configuration.credentials?.password == secret.password)
        secret.expectAbsent(fromConfiguration: configuration)
        do {
            _ = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://h:0", "REDIS_PASSWORD": secret.password])
            Issue.record("port 0 should not parse")
        } catch {
            secret.expectAbsent(fromError: error)
        }
    }

    @Test func everyRuntimeErrorPathKeepsThePasswordOutOfErrorsAndLogs() async throws {
        let secret = Secret()
        let logs = LogCapture()
        let logger = logs.logger()
        var errors: [any Error] = []
        var configurations: [RedisConfiguration] = []
        func run(_ adjust: (inout RedisConfiguration) -> Void, expecting code: RedisError.Code,
                 _ body: @Sendable (RedisClient) async throws -> Void = { _ = try await $0.send("PING") }) async throws {
            var configuration = try TestServer.configuration()
            configuration.credentials = .init(username: "nobody", password: secret.password)
            adjust(&configuration)
            configurations.append(configuration)
            let client = RedisClient(configuration: configuration, logger: logger)
            secret.expectAbsent(from: dumped(client), "dump of the client")
            if let error = await expectRedisError(code, { try await body(client) }) { errors.append(error) }
            await client.shutdown()
        }

        // Connection refused.
        let refusing = try RefusingPort()
        try await run({ $0.endpoint = .tcp(host: "127.0.0.1", port: refusing.port) }, expecting: .connectionRefused)
        refusing.release()
        // An invalid configuration.
        try await run({ $0.pool.size = 0 }, expecting: .invalidConfiguration)
        // WRONGPASS: a user who exists with another password.
        let user = "test-user-\(UUID().uuidString.prefix(8))"
        try await withClient { admin in try await admin.send("ACL", "SETUSER", user, "on", ">other-password", "+@all", "~*") }
        try await run({ $0.credentials?.username = user }, expecting: .server(.wrongPassword))
        // NOPERM: the password is right, the user may run PING and GET on one key only.
        let key = TestServer.key()
        try await withClient { admin in try await admin.send("ACL", "SETUSER", user, "reset", "on", ">\(secret.password)", "~\(key)", "+ping", "+get") }
        try await run({ $0.credentials?.username = user }, expecting: .server(.noPermission)) { client in
            #expect(try await client.send("PING").string == "PONG")
            try await client.send("SET", key, "x")
        }
        try await withClient { admin in try await admin.send("ACL", "DELUSER", user) }
        // A password for a server whose default user has none.
        try await run({ $0.credentials?.username = nil }, expecting: .server(.generic))
        // Timeout: a private server that is suspended answers nothing, not even AUTH.
        try await withPrivateServer { server in
            server.suspend()
            try await run({ $0.endpoint = server.configuration().endpoint; $0.commandTimeout = .milliseconds(100) }, expecting: .timeout)
            server.resume()
        }
        // A connection the server killed: the reconnect authenticates again (and fails again).
        try await withClient { admin in try await admin.send("ACL", "SETUSER", user, "on", ">\(secret.password)", "+@all", "~*") }
        try await run({ $0.credentials?.username = user; $0.pool.size = 1 }, expecting: .server(.wrongPassword)) { client in
            let id = try #require(try await client.send("CLIENT", "ID").int)
            try await withClient { admin async throws in
                try await admin.send("ACL", "SETUSER", user, "resetpass", ">changed")
                try await admin.send("CLIENT", "KILL", "ID", id)
            }
            try await client.send("PING")
        }
        try await withClient { admin in try await admin.send("ACL", "DELUSER", user) }

        #expect(errors.count >= 7)
        for error in errors { secret.expectAbsent(fromError: error) }
        for configuration in configurations { secret.expectAbsent(fromConfiguration: configuration) }
        let lines = logs.lines
        #expect(lines.contains { $0.contains("connect failed") })
        #expect(lines.contains { $0.contains("invalid Redis configuration") })
        for line in lines { secret.expectAbsent(from: line, "a log line") }
    }
}

/// What `dump` prints.
func dumped(_ value: Any) -> String {
    var text = ""
    dump(value, to: &text)
    return text
}

/// Every label and value a Mirror shows, recursively.
func mirrored(_ value: Any, depth: Int = 0) -> String {
    guard depth < 8 else { return "" }
    return Mirror(reflecting: value).children.map { child in
        "\(child.label ?? "_")=\(child.value) " + mirrored(child.value, depth: depth + 1)
    }.joined(separator: " ")
}
