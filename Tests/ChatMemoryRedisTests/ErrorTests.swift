import Foundation
import ChatMemoryRedis
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
        // A private server, suspended with SIGSTOP, answers nothing: the shared one is never stalled.
        try await withPrivateServer { server async throws in
            var configuration = server.configuration()
            configuration.commandTimeout = .milliseconds(200)
            configuration.pool.size = 1
            try await withClient(configuration: configuration) { client async throws in
                #expect(try await sendUnhurried(client, "PING").string == "PONG")
                server.suspend()
                await expectRedisError(.timeout) { try await client.send("PING") }
                server.resume()
                // The timed-out connection was dropped; a fresh one answers once the server runs
                // again (given more than 200 ms: a loaded machine may need it to resume the server).
                #expect(try await sendUnhurried(client, "PING").string == "PONG")
            }
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

    @Test func refusedConnectionFailsFastThenRecoversWhenTheServerStarts() async throws {
        let port = try freeLoopbackPort()
        let settings = { (backoff: Duration) in { (configuration: inout RedisConfiguration) in
            configuration.endpoint = .tcp(host: "127.0.0.1", port: port)
            configuration.pool.size = 1
            configuration.pool.initialBackoff = backoff
            configuration.pool.maxBackoff = backoff
        } }
        let patient = try TestServer.client(settings(.seconds(3600)))
        let eager = try TestServer.client(settings(.milliseconds(10)))
        await expectRedisError(.connectionRefused) { try await patient.send("PING") }
        await expectRedisError(.connectionRefused) { try await eager.send("PING") }
        try await withPrivateServer(port: port) { _ in
            // Within its backoff, a client fails at once with the last error, without connecting,
            // even though a server listens now.
            await expectRedisError(.connectionRefused) { try await patient.send("PING") }
            // Once the backoff has passed, the next call connects. (Retried while the 10 ms pass.)
            var reply: RedisValue?
            for _ in 0..<500 where reply == nil {
                reply = try? await eager.send("PING")
                if reply == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(reply?.string == "PONG")
        }
        await patient.shutdown()
        await eager.shutdown()
        let missingSocket = RedisClient(configuration: RedisConfiguration(endpoint: .unixSocket(path: "/nonexistent/redis.sock")))
        await expectRedisError(.connectionRefused) { try await missingSocket.send("PING") }
        await missingSocket.shutdown()
    }

    @Test func brokenPipeIsAnErrorAndSIGPIPEIsLeftAlone() async throws {
        // A real broken pipe: over a Unix socket, a write after the server closed the connection
        // fails with EPIPE and raises SIGPIPE (TCP may report ECONNRESET instead). The private
        // server refuses bulk strings over 1 MB: it reads the length, replies with an error and
        // closes, while the client is still writing its 16 MB (far more than the socket buffers).
        #expect(sigpipeDisposition() == .default)
        try await withPrivateServer(arguments: ["--proto-max-bulk-len", "1mb"]) { server async throws in
            var configuration = server.unixConfiguration()
            configuration.pool.size = 1
            try await withClient(configuration: configuration) { client async throws in
                #expect(try await client.send("PING").string == "PONG")
                let payload = [UInt8](repeating: 0x78, count: 16 << 20)
                let error = await expectRedisError(.connectionClosed) { try await client.send("SET", TestServer.key(), payload) }
                #expect(error?.message.contains("Broken pipe") == true, "\(String(describing: error))")
                // Alive, SIGPIPE still at its default action, none left pending on any thread, and
                // the client carries on with a new connection.
                #expect(sigpipeDisposition() == .default)
                #expect(threadsWithSIGPIPEPending() == [])
                #expect(try await client.send("PING").string == "PONG")
            }
        }
    }

    @Test func shutdownRefusesNewWork() async throws {
        let client = try TestServer.client()
        #expect(try await client.send("PING").string == "PONG")
        await client.shutdown()
        await expectRedisError(.shutdown) { try await client.send("PING") }
    }
}

/// What the process does on SIGPIPE, from /proc/self/status (Linux): ignored, caught, or the default.
enum SignalDisposition { case `default`, ignored, caught }

func sigpipeDisposition() -> SignalDisposition? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    func mask(_ name: String) -> UInt64? {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .flatMap { UInt64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces), radix: 16) }
    }
    guard let ignored = mask("SigIgn"), let caught = mask("SigCgt") else { return nil }
    let bit = UInt64(1) << (UInt64(SIGPIPE) - 1)
    if ignored & bit != 0 { return .ignored }
    if caught & bit != 0 { return .caught }
    return .default
}

/// The ids of this process's threads that have SIGPIPE pending (Linux).
func threadsWithSIGPIPEPending() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    let bit = UInt64(1) << (UInt64(SIGPIPE) - 1)
    return tasks.filter { task in
        guard let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8) else { return false }
        return status.split(separator: "\n").contains { line in
            guard line.hasPrefix("SigPnd:") || line.hasPrefix("ShdPnd:") else { return false }
            let value = UInt64(line.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
            return value & bit != 0
        }
    }
}
