import Foundation
@testable import ChatMemoryRedis
import Testing

/// A credentials provider is asked for every new connection; a WRONGPASS asks it once more.
@Suite(.timeLimit(.minutes(2))) struct CredentialsProviderTests {
    /// A provider that hands out `passwords` in turn (the last one for ever) and counts its calls.
    final class Source: Sendable {
        private let state: Locked<(passwords: [String], calls: Int)>
        let user: String

        init(user: String, passwords: [String]) {
            self.user = user
            state = Locked((passwords, 0))
        }

        var calls: Int { state.withLock { $0.calls } }

        func set(_ password: String) { state.withLock { $0.passwords = [password] } }

        func next() -> RedisConfiguration.Credentials {
            state.withLock { state in
                state.calls += 1
                let password = state.passwords.count > 1 ? state.passwords.removeFirst() : state.passwords[0]
                return RedisConfiguration.Credentials(username: user, password: password)
            }
        }
    }

    @Test func aRotatedPasswordIsFetchedForEveryNewConnection() async throws {
        try await withPrivateServer { server in
            try await withClient(configuration: server.configuration()) { admin in
                try await admin.send("ACL", "SETUSER", "app", "on", ">first-token", "~*", "&*", "+@all")
                let source = Source(user: "app", passwords: ["first-token"])
                var configuration = server.configuration()
                configuration.pool.size = 1
                let client = RedisClient(configuration: configuration, credentialsProvider: { source.next() })
                #expect(try await client.send("ACL", "WHOAMI").string == "app")
                #expect(source.calls == 1)
                // The token rotates on the server and at the source; the old connection goes.
                try await admin.send("ACL", "SETUSER", "app", "resetpass", ">second-token")
                source.set("second-token")
                #expect(try await admin.send("CLIENT", "KILL", "USER", "app").int == 1)
                #expect(try await client.send("ACL", "WHOAMI").string == "app")
                #expect(source.calls == 2)
                // A dedicated connection asks too.
                #expect(try await client.withDedicatedConnection { try await $0.send("ACL", "WHOAMI") }.string == "app")
                #expect(source.calls == 3)
                await client.shutdown()
            }
        }
    }

    @Test func wrongPassAsksTheProviderOnceMore() async throws {
        try await withPrivateServer { server in
            try await withClient(configuration: server.configuration()) { admin in
                try await admin.send("ACL", "SETUSER", "app", "on", ">fresh-token", "~*", "&*", "+@all")
                // The first answer is a token that has just expired.
                let source = Source(user: "app", passwords: ["expired-token", "fresh-token"])
                var configuration = server.configuration()
                configuration.credentials = .init(username: "app", password: "static-is-ignored")
                let client = RedisClient(configuration: configuration, credentialsProvider: { source.next() })
                #expect(try await client.send("ACL", "WHOAMI").string == "app")
                #expect(source.calls == 2)
                await client.shutdown()

                // Only once: two refusals are the caller's error, and nothing ran.
                let stale = Source(user: "app", passwords: ["expired-token"])
                var once = server.configuration()
                once.pool.size = 1
                let refused = RedisClient(configuration: once, credentialsProvider: { stale.next() })
                let error = await expectRedisError(.server(.wrongPassword)) { try await refused.send("INCR", "counter") }
                #expect(error?.mayHaveRun == false)
                #expect(error.map { !"\($0)".contains("expired-token") } == true)
                #expect(stale.calls == 2)
                await refused.shutdown()
                #expect(try await admin.send("GET", "counter") == .null)
            }
        }
    }

    struct TokenServiceDown: Error, CustomStringConvertible {
        var description: String { "token service down; last token was s3cret-token" }
    }

    @Test func aFailingProviderIsAnErrorWithoutItsText() async throws {
        let client = try TestServer.client({ $0.pool.size = 1 })
        let provider: RedisCredentialsProvider = { throw TokenServiceDown() }
        let failing = RedisClient(configuration: client.configuration, credentialsProvider: provider)
        let error = await expectRedisError(.io) { try await failing.send("PING") }
        #expect(error?.message.contains("TokenServiceDown") == true, "\(String(describing: error))")
        #expect(error.map { !"\($0)".contains("s3cret") } == true)
        #expect(error?.mayHaveRun == false)
        await failing.shutdown()
        await client.shutdown()
    }

    /// A connect cut short by the caller's own deadline (here the provider answers too late for
    /// it) says nothing about the server: the next call connects at once, with no backoff held
    /// against it (a backoff would refuse it at once with the first call's error).
    @Test func aConnectCutShortByTheCallersDeadlineHoldsNoBackoff() async throws {
        try await withPrivateServer { server in
            try await withClient(configuration: server.configuration()) { admin in
                try await admin.send("ACL", "SETUSER", "app", "on", ">token", "~*", "&*", "+@all")
                let (gate, open) = AsyncStream<Void>.makeStream()
                let calls = Locked(0)
                var configuration = server.configuration()
                configuration.pool.size = 1
                configuration.connectTimeout = .seconds(60)
                configuration.commandTimeout = .milliseconds(200)
                configuration.pool.initialBackoff = .seconds(3600)
                configuration.pool.maxBackoff = .seconds(3600)
                let client = RedisClient(configuration: configuration, credentialsProvider: {
                    let first = calls.withLock { count in
                        count += 1
                        return count == 1
                    }
                    if first { for await _ in gate {} }
                    return RedisConfiguration.Credentials(username: "app", password: "token")
                })
                let error = await expectRedisError(.timeout) { try await client.send("PING") }
                #expect(error?.mayHaveRun == false)
                open.finish()
                #expect(try await sendUnhurried(client, "ACL", "WHOAMI").string == "app")
                #expect(calls.withLock { $0 } == 2)
                await client.shutdown()
            }
        }
    }

    @Test func aSlowProviderIsBoundedByTheConnectTimeoutAndByShutdown() async throws {
        var configuration = try TestServer.configuration()
        configuration.pool.size = 1
        configuration.connectTimeout = .milliseconds(100)
        // A provider that waits on a stream of its own (an AsyncStream ends for good once a
        // waiting task is cancelled, so two clients must not share one).
        func hangingProvider() -> (RedisCredentialsProvider, AsyncStream<Void>.Continuation) {
            let (never, neverEnds) = AsyncStream<Void>.makeStream()
            return ({
                for await _ in never {}
                return RedisConfiguration.Credentials(password: "unused")
            }, neverEnds)
        }
        let (slowProvider, slowEnds) = hangingProvider()
        defer { slowEnds.finish() }
        let slow = RedisClient(configuration: configuration, credentialsProvider: slowProvider)
        await expectRedisError(.timeout) { try await slow.send("PING") }
        await slow.shutdown()

        configuration.connectTimeout = nil
        let (stuckProvider, stuckEnds) = hangingProvider()
        defer { stuckEnds.finish() }
        let stuck = RedisClient(configuration: configuration, credentialsProvider: stuckProvider)
        let call = Task { try await stuck.send("PING") }
        // Connecting: the I/O thread waits for the provider, the request still queued.
        try await waitUntil { try stuck.pool.get().connections[0].isPreparingWrite }
        await stuck.shutdown()
        await expectRedisError(.shutdown) { _ = try await call.value }
    }
}
