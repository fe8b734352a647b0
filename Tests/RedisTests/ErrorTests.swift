import Foundation
import Logging
import Redis
import Synchronization
import Testing

@Suite struct ErrorTests {
    @Test func wrongTypeIsAServerErrorKind() async throws {
        try await withClient { client in
            let key = TestServer.key()
            try await client.send("SET", key, "text")
            let error = await expectRedisError(.server(.wrongType)) { try await client.send("LPUSH", key, "x") }
            #expect(error?.message.hasPrefix("WRONGTYPE") == true)
            try await client.send("DEL", key)
        }
    }

    @Test func aclUserWithoutPermissionGetsNoPerm() async throws {
        let user = "test-user-\(UUID().uuidString.prefix(8))"
        let password = "pw-\(UUID().uuidString)"
        let key = TestServer.key()
        try await withClient { admin in
            try await admin.send("ACL", "SETUSER", user, "on", ">\(password)", "~\(key)", "+get", "+ping")
        }
        try await withClient({ $0.credentials = .init(username: user, password: password) }) { restricted async throws in
            #expect(try await restricted.send("GET", key) == .null)
            await expectRedisError(.server(.noPermission)) { try await restricted.send("SET", key, "x") }
            await expectRedisError(.server(.noPermission)) { try await restricted.send("GET", key + ":other") }
        }
        try await withClient { admin in try await admin.send("ACL", "DELUSER", user) }
    }

    @Test func wrongPasswordFailsWithoutLeakingIt() async throws {
        let user = "test-user-\(UUID().uuidString.prefix(8))"
        let secret = "never-log-this-\(UUID().uuidString)"
        try await withClient { admin in try await admin.send("ACL", "SETUSER", user, "on", ">right-password", "+@all", "~*") }
        let records = LogCapture()
        let logger = Logger(label: "capture") { _ in records }
        var logged = logger
        logged.logLevel = .trace
        try await withClient({ $0.credentials = .init(username: user, password: secret) }, logger: logged) { client in
            let error = await expectRedisError(.server(.wrongPassword)) { try await client.send("PING") }
            #expect(error.map { !"\($0)".contains(secret) && !$0.message.contains(secret) } == true)
            #expect(!"\(client.configuration)".contains(secret))
        }
        #expect(!records.lines.isEmpty)
        #expect(records.lines.allSatisfy { !$0.contains(secret) })
        try await withClient { admin in try await admin.send("ACL", "DELUSER", user) }
    }

    @Test func passwordAloneIsSentAsAuthForTheDefaultUser() async throws {
        // The test server's default user has no password, so the server refuses `AUTH <password>`
        // with its own message, which proves the one-argument form was sent.
        try await withClient({ $0.credentials = .init(password: "not-configured") }) { client in
            let error = await expectRedisError(.server(.generic)) { try await client.send("PING") }
            #expect(error?.message.contains("AUTH <password> called without any password configured") == true)
            #expect(error?.message.contains("not-configured") == false)
        }
    }

    @Test func commandTimeoutThenRecovery() async throws {
        // DEBUG SLEEP blocks the whole server; it is the only test that uses it.
        try await withClient({ $0.commandTimeout = .milliseconds(150); $0.pool.size = 1 }) { client in
            let started = ContinuousClock.now
            await expectRedisError(.timeout) { try await client.send("DEBUG", "SLEEP", "0.6") }
            #expect(ContinuousClock.now - started < .milliseconds(550))
            // The next command gets a fresh connection once the server is awake again.
            try await Task.sleep(for: .seconds(1))
            #expect(try await client.send("PING").string == "PONG")
        }
    }

    @Test func killedConnectionRecoversTransparently() async throws {
        try await withClient({ $0.pool.size = 1 }) { client in
            let id = try #require(try await client.send("CLIENT", "ID").int)
            try await withClient { admin async throws in
                #expect(try await admin.send("CLIENT", "KILL", "ID", id) == .integer(1))
            }
            // The dead connection is noticed before use and replaced; the caller sees no error.
            #expect(try await client.send("PING").string == "PONG")
            let newID = try #require(try await client.send("CLIENT", "ID").int)
            #expect(newID != id)
        }
    }

    @Test func reconnectAuthenticatesAndSelectsAgain() async throws {
        let user = "test-user-\(UUID().uuidString.prefix(8))"
        let key = TestServer.key()
        try await withClient { admin in try await admin.send("ACL", "SETUSER", user, "on", ">pw", "+@all", "~*") }
        try await withClient({ $0.credentials = .init(username: user, password: "pw"); $0.database = 7; $0.clientName = "again"; $0.pool.size = 1 }) { client in
            try await client.send("SET", key, "in db 7")
            let id = try #require(try await client.send("CLIENT", "ID").int)
            try await withClient { admin async throws in
                #expect(try await admin.send("CLIENT", "KILL", "ID", id) == .integer(1))
            }
            #expect(try await client.send("ACL", "WHOAMI").string == user)
            #expect(try await client.send("GET", key).string == "in db 7")
            #expect(try await client.send("CLIENT", "GETNAME").string == "again")
            #expect(try await client.send("CLIENT", "ID").int != id)
            try await client.send("DEL", key)
        }
        try await withClient { admin in try await admin.send("ACL", "DELUSER", user) }
    }

    @Test func refusedConnectionFailsFastAndRecovers() async throws {
        let port = try freeLoopbackPort()
        try await withClient({ $0.endpoint = .tcp(host: "127.0.0.1", port: port); $0.pool.initialBackoff = .milliseconds(10) }) { client in
            let started = ContinuousClock.now
            await expectRedisError(.connectionRefused) { try await client.send("PING") }
            await expectRedisError(.connectionRefused) { try await client.send("PING") }
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        let missingSocket = RedisClient(configuration: RedisConfiguration(endpoint: .unixSocket(path: "/nonexistent/redis.sock")))
        await expectRedisError(.connectionRefused) { try await missingSocket.send("PING") }
        await missingSocket.shutdown()
    }

    @Test func brokenPipeIsAnErrorNotTheEndOfTheProcess() async throws {
        try await withClient { client in
            #expect(try await client.send("PING").string == "PONG")
            // /proc/self/status lists ignored signals as a hex mask; SIGPIPE is bit 13 - 1.
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            let ignored = status.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
                .flatMap { UInt64($0.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
            #expect(ignored.map { $0 & (1 << (UInt64(SIGPIPE) - 1)) != 0 } == true)
            // Writing to a socket whose peer is gone now fails with EPIPE instead of killing us.
            var ends: [Int32] = [0, 0]
            #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &ends) == 0)
            close(ends[1])
            #expect(write(ends[0], "x", 1) == -1 && errno == EPIPE)
            close(ends[0])
        }
    }

    @Test func shutdownRefusesNewWork() async throws {
        let client = try TestServer.client()
        #expect(try await client.send("PING").string == "PONG")
        await client.shutdown()
        await expectRedisError(.shutdown) { try await client.send("PING") }
    }
}

/// Collects every log line, to check what reaches the logs.
final class LogCapture: LogHandler, Sendable {
    private let storage = Mutex<[String]>([])
    var lines: [String] { storage.withLock { $0 } }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }
    func log(event: LogEvent) {
        storage.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
    }
}

/// A loopback port nobody listens on.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { throw TestServerMissing() }
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
