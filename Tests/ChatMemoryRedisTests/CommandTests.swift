import Foundation
import ChatMemoryRedis
import Testing

@Suite struct CommandTests {
    @Test func repliesOfEveryType() async throws {
        try await withClient { client in
            let key = TestServer.key()
            #expect(try await client.send("SET", key, "value") == .status("OK"))
            #expect(try await client.send("GET", key) == .bulkString(Array("value".utf8)))
            #expect(try await client.send("GET", key + ":missing") == .null)
            #expect(try await client.send("DEL", key) == .integer(1))
            #expect(try await client.send("RPUSH", key, "a", "b", 3) == .integer(3))
            #expect(try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.string) == ["a", "b", "3"])
            #expect(try await client.send("LRANGE", key + ":missing", 0, -1) == .array([]))
            #expect(try await client.send("INCRBY", key + ":n", 41).int == 41)
            #expect(try await client.send("PING").string == "PONG")
            try await client.send("DEL", key, key + ":n")
        }
    }

    @Test(arguments: [
        Array("with spaces and \r\n CRLF".utf8),
        Array("%s %d %b %%".utf8),
        [0, 0, 65, 0, 66],
        [0xFF, 0xFE, 0xC3, 0x28, 0xE2, 0x82],  // invalid UTF-8
        Array("{*} $3 * 🧪 ünïcödé 漢字".utf8),
        [],
    ] as [[UInt8]])
    func binarySafeRoundTrip(bytes: [UInt8]) async throws {
        try await withClient { client in
            let key = Array(TestServer.key().utf8) + bytes
            try await client.send("SET", key, bytes)
            #expect(try await client.send("GET", key) == .bulkString(bytes))
            try await client.send("RPUSH", key + [1], bytes, bytes)
            #expect(try await client.send("LRANGE", key + [1], 0, -1) == .array([.bulkString(bytes), .bulkString(bytes)]))
            try await client.send("DEL", key, key + [1])
        }
    }

    @Test func megabyteValues() async throws {
        try await withClient { client in
            let key = TestServer.key()
            var value = [UInt8](repeating: 0, count: 1 << 20)
            for index in value.indices { value[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 8) }
            try await client.send("SET", key, value)
            #expect(try await client.send("GET", key) == .bulkString(value))
            #expect(try await client.send("STRLEN", key) == .integer(1 << 20))
            try await client.send("DEL", key)
        }
    }

    @Test func pipelineOfTenThousandCommands() async throws {
        try await withClient { client in
            let key = TestServer.key()
            let pushes = (0..<10_000).map { RedisCommand("RPUSH", key, "item-\($0)") }
            let replies = try await client.pipeline(pushes)
            #expect(replies.count == 10_000)
            #expect(try replies.map { try $0.get() } == (1...10_000).map { .integer(Int64($0)) })
            let reads = (0..<10_000).map { RedisCommand("LINDEX", key, $0) }
            let values = try await client.pipeline(reads).map { try $0.get().string }
            #expect(values == (0..<10_000).map { "item-\($0)" })
            try await client.send("DEL", key)
        }
    }

    @Test func pipelineKeepsServerErrorsPerCommand() async throws {
        try await withClient { client in
            let key = TestServer.key()
            let replies = try await client.pipeline([
                RedisCommand("SET", key, "text"),
                RedisCommand("LPUSH", key, "x"),
                RedisCommand("GET", key),
            ])
            #expect(try replies[0].get() == .status("OK"))
            #expect(throws: RedisError.self) { try replies[1].get() }
            if case .failure(let error) = replies[1] { #expect(error.code == .server(.wrongType)) }
            #expect(try replies[2].get().string == "text")
            try await client.send("DEL", key)
        }
    }

    @Test func transactionRunsAtomically() async throws {
        try await withClient { client in
            let key = TestServer.key()
            let results = try await client.transaction([
                RedisCommand("RPUSH", key, "a", "b"),
                RedisCommand("LTRIM", key, 0, 0),
                RedisCommand("EXPIRE", key, 60),
            ])
            #expect(try results.map { try $0.get() } == [.integer(2), .status("OK"), .integer(1)])
            #expect(try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.string) == ["a"])
            let ttl = try await client.send("TTL", key).int ?? -1
            #expect((1...60).contains(ttl))

            await expectRedisError(.server(.generic)) {
                _ = try await client.transaction([RedisCommand("NOSUCHCOMMAND", key)])
            }
            try await client.send("DEL", key)
        }
    }

    @Test func scriptsLoadThemselvesOnNoScript() async throws {
        try await withClient { client in
            let key = TestServer.key()
            // A script no one has sent before (its comment is unique), so the server does not know it.
            let script = RedisScript("-- \(UUID().uuidString)\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))
            #expect(try await client.evaluate(script, keys: [key], arguments: [5]) == .integer(5))
            #expect(try await client.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))
            #expect(try await client.evaluate(script, keys: [key], arguments: [2]) == .integer(7))
            #expect(script.sha1 == (try await client.send("SCRIPT", "LOAD", script.source).string))
            try await client.send("DEL", key)
        }
    }

    @Test func scriptsLoadThemselvesAgainAfterScriptFlush() async throws {
        // SCRIPT FLUSH empties the cache of the whole server: a private one, so no other test notices.
        try await withPrivateServer { server async throws in
            try await withClient(configuration: server.configuration()) { client async throws in
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
                #expect(try await client.evaluate(script, keys: ["n"], arguments: [5]) == .integer(5))
                try await client.send("SCRIPT", "FLUSH")
                #expect(try await client.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(0)]))
                #expect(try await client.evaluate(script, keys: ["n"], arguments: [2]) == .integer(7))
            }
        }
    }

    @Test func selectsDatabaseAndNamesTheClient() async throws {
        let key = TestServer.key()
        try await withClient({ $0.database = 5; $0.clientName = "chat-worker-1" }) { client in
            try await client.send("SET", key, "in db 5")
            #expect(try await client.send("CLIENT", "GETNAME").string == "chat-worker-1")
        }
        try await withClient { client async throws in
            #expect(try await client.send("EXISTS", key) == .integer(0))
            await expectRedisError(.requiresDedicatedConnection) { try await client.send("SELECT", 5) }
        }
        try await withClient({ $0.database = 5 }) { client in
            #expect(try await client.send("GET", key).string == "in db 5")
            try await client.send("DEL", key)
        }
    }

    @Test func connectsOverUnixSocket() async throws {
        let socket = try #require(ProcessInfo.processInfo.environment["REDIS_SOCKET"], "Scripts/test.sh sets REDIS_SOCKET")
        let client = RedisClient(configuration: try RedisConfiguration(url: "unix://\(socket)"))
        #expect(try await client.send("PING").string == "PONG")
        await client.shutdown()
    }

    @Test func emptyCommandIsRejected() async throws {
        try await withClient { client in
            await expectRedisError(.invalidCommand) { _ = try await client.send(RedisCommand(arguments: [])) }
        }
    }
}
