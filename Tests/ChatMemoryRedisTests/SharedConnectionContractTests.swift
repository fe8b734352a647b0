import Foundation
@testable import ChatMemoryRedis
import Testing

/// Commands that change or hold a connection are refused on the shared pool, with nothing sent,
/// and run on a dedicated connection.
@Suite struct SharedConnectionContractTests {
    /// Every command the pool refuses, in the case a caller might write it.
    static let refused: [[String]] = [
        ["SELECT", "3"], ["select", "3"], ["SeLeCt", "0"],
        ["MULTI"], ["exec"], ["DISCARD"], ["WATCH", "k"], ["unwatch"],
        ["SUBSCRIBE", "ch"], ["psubscribe", "p*"], ["SSUBSCRIBE", "ch"],
        ["UNSUBSCRIBE"], ["PUNSUBSCRIBE"], ["SUNSUBSCRIBE"],
        ["MONITOR"], ["HELLO", "3"], ["RESET"], ["AUTH", "secret"], ["quit"],
        ["CLIENT", "REPLY", "OFF"], ["client", "reply", "skip"], ["CLIENT", "tracking", "on"],
        ["CLIENT", "CACHING", "yes"], ["CLIENT", "SETNAME", "x"], ["CLIENT", "NO-EVICT", "on"],
        ["READONLY"], ["READWRITE"], ["ASKING"],
        ["BLPOP", "k", "0"], ["brpop", "k", "0"], ["BRPOPLPUSH", "a", "b", "0"],
        ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"], ["BLMPOP", "0", "1", "k", "LEFT"],
        ["BZPOPMIN", "k", "0"], ["bzpopmax", "k", "0"], ["BZMPOP", "0", "1", "k", "MIN"],
        ["WAIT", "0", "0"], ["WAITAOF", "0", "0", "0"],
        ["XREAD", "BLOCK", "0", "STREAMS", "k", "$"], ["xread", "count", "1", "block", "10", "streams", "k", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "k", ">"],
    ]

    @Test func eachRefusedCommandIsRefusedWithNothingSent() async throws {
        try await withPrivateServer { server in
            var configuration = server.configuration()
            configuration.pool.size = 1
            try await withClient(configuration: configuration) { client in
                #expect(try await client.send("PING").string == "PONG")
                let before = try await commandCalls(client)
                for words in Self.refused {
                    let command = RedisCommand(words[0], words.dropFirst().map { $0 })
                    let error = await expectRedisError(.requiresDedicatedConnection) { try await client.send(command) }
                    let message = error?.message ?? ""
                    #expect(message.contains(words[0].uppercased()), "\(message)")
                    #expect(message.contains("withDedicatedConnection"), "\(message)")
                    #expect(error?.mayHaveRun == false)
                    // The same inside a pipeline: the whole pipeline is refused.
                    await expectRedisError(.requiresDedicatedConnection) {
                        _ = try await client.pipeline([RedisCommand("INCR", "count"), command])
                    }
                }
                // The server saw none of them (nor the INCRs of the refused pipelines).
                let after = try await commandCalls(client)
                let changed = Set(after.keys).union(before.keys).filter { after[$0] != before[$0] }
                #expect(changed == ["info"], "\(changed)")
                #expect(try await client.send("EXISTS", "count") == .integer(0))
            }
        }
    }

    @Test func theRefusalNamesTheSubcommandAndTheWayOut() async throws {
        try await withClient { client async throws in
            let reply = await expectRedisError(.requiresDedicatedConnection) { try await client.send("client", "reply", "off") }
            #expect(reply?.message.hasPrefix("CLIENT REPLY is refused on the shared pool (nothing was sent)") == true, "\(String(describing: reply))")
            let multi = await expectRedisError(.requiresDedicatedConnection) { try await client.send("MULTI") }
            #expect(multi?.message.contains("client.transaction") == true)
            #expect(try await client.send("CLIENT", "GETNAME") == .null)
        }
    }

    @Test func selectOnThePoolLeavesTheNextCallerOnItsDatabase() async throws {
        let key = TestServer.key()
        try await withClient({ $0.pool.size = 1 }) { client in
            await expectRedisError(.requiresDedicatedConnection) { try await client.send("SELECT", 3) }
            try await client.send("SET", key, "in db 0")
        }
        try await withClient { client in
            #expect(try await client.send("GET", key).string == "in db 0")
            try await client.send("DEL", key)
        }
    }

    @Test func selectOnADedicatedConnectionStaysThere() async throws {
        let key = TestServer.key()
        try await withClient({ $0.pool.size = 1 }) { client in
            #expect(try await client.send("PING").string == "PONG")
            let pooledID = try await client.send("CLIENT", "ID").int
            let dedicatedID = try await client.withDedicatedConnection { connection in
                #expect(try await connection.send("select", 3) == .status("OK"))
                try await connection.send("SET", key, "in db 3")
                return try await connection.send("CLIENT", "ID").int
            }
            #expect(dedicatedID != pooledID)
            // The pool's next caller is still on database 0, on the same pooled connection.
            #expect(try await client.send("GET", key) == .null)
            #expect(try await client.send("CLIENT", "ID").int == pooledID)
            // The dedicated connection was closed, not returned to the pool.
            let clients = try await client.send("CLIENT", "LIST").string ?? ""
            #expect(!clients.contains("id=\(dedicatedID ?? -1) "))
        }
        try await withClient({ $0.database = 3 }) { client in
            #expect(try await client.send("GET", key).string == "in db 3")
            try await client.send("DEL", key)
        }
    }

    /// The pop blocks without a server timeout (a busy machine cannot make it give up first);
    /// the time limit only turns a hang into a failure.
    @Test(.timeLimit(.minutes(5))) func blpopOnADedicatedConnectionReturnsWhenAnotherClientPushes() async throws {
        let name = uniqueClientName()
        let key = TestServer.key()
        try await withClient({ $0.clientName = name; $0.pool.size = 1 }) { client in
            let popped = Task {
                try await client.withDedicatedConnection { connection in
                    try await connection.send("BLPOP", key, 0)
                }
            }
            try await waitUntil { try await isBlocked(clientNamed: name) }
            // The blocked dedicated connection holds no pool slot.
            #expect(try await client.send("PING").string == "PONG")
            try await release(key)
            #expect(try await popped.value == .array([.bulkString(Array(key.utf8)), .bulkString(Array("go".utf8))]))
        }
    }

    @Test func subscribeOnADedicatedConnectionReceivesMessages() async throws {
        let channel = TestServer.key()
        try await withClient { client in
            try await client.withDedicatedConnection { connection in
                let confirmation = try await connection.send("SUBSCRIBE", channel)
                #expect(confirmation.array?.first?.string == "subscribe")
                try await waitUntil {
                    try await client.send("PUBSUB", "NUMSUB", channel).array?.last?.int == 1
                }
                #expect(try await client.send("PUBLISH", channel, "hello") == .integer(1))
                let message = try await connection.receive()
                #expect(message.array?.map(\.string) == ["message", channel, "hello"])
            }
        }
    }

    @Test func watchAndMultiWorkOnADedicatedConnection() async throws {
        let key = TestServer.key()
        try await withClient { client in
            let results = try await client.withDedicatedConnection { connection in
                try await connection.send("WATCH", key)
                return try await connection.pipeline([RedisCommand("MULTI"), RedisCommand("SET", key, "1"), RedisCommand("EXEC")])
            }
            #expect(try results[2].get() == .array([.status("OK")]))
            try await client.send("DEL", key)
        }
    }

    @Test func transactionRefusesStateCommandsButNotBlockingOnes() async throws {
        let key = TestServer.key()
        try await withClient { client in
            await expectRedisError(.requiresDedicatedConnection) {
                _ = try await client.transaction([RedisCommand("SET", key, "1"), RedisCommand("SELECT", 2)])
            }
            #expect(try await client.send("EXISTS", key) == .integer(0))
            // Inside MULTI a blocking command does not block: it is allowed.
            let results = try await client.transaction([RedisCommand("BLPOP", key, 0)])
            #expect(try results[0].get() == .null)
        }
    }

    @Test func aDedicatedConnectionIsUnusableAfterItsBody() async throws {
        try await withClient { client in
            let escaped = try await client.withDedicatedConnection { connection async throws in
                #expect(try await connection.send("PING").string == "PONG")
                return connection
            }
            await #expect(throws: RedisError.self) { try await escaped.send("PING") }
        }
    }

    @Test func aDedicatedConnectionAfterShutdownIsRefused() async throws {
        let client = try TestServer.client()
        await client.shutdown()
        await expectRedisError(.shutdown) { _ = try await client.withDedicatedConnection { try await $0.send("PING") } }
    }

    @Test func classificationIgnoresLookalikes() {
        func hazard(_ words: String...) -> SharedConnectionContract.Hazard? {
            SharedConnectionContract.hazard(of: words.map { Array($0.utf8) })
        }
        #expect(hazard() == nil)
        #expect(hazard("GET", "k") == nil)
        #expect(hazard("SELECTX") == nil)
        #expect(hazard("SELEC") == nil)
        #expect(hazard("CLIENT") == nil)
        #expect(hazard("CLIENT", "GETNAME") == nil)
        #expect(hazard("CLIENT", "REPLYX") == nil)
        #expect(hazard("XREAD", "STREAMS", "BLOCK", "0") == nil, "a key named BLOCK")
        #expect(hazard("XREAD", "COUNT", "1", "STREAMS", "k", "0") == nil)
        #expect(hazard("XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">") == nil)
        #expect(hazard("sElEcT", "1") == .state)
        #expect(hazard("Blpop", "k", "1") == .blocking)
        #expect(hazard("XREAD", "block", "1", "STREAMS", "k", "0") == .blocking)
        // Option values that spell the words: a group or consumer named STREAMS or BLOCK.
        #expect(hazard("XREADGROUP", "GROUP", "STREAMS", "c1", "BLOCK", "3000", "STREAMS", "k", ">") == .blocking)
        #expect(hazard("XREADGROUP", "GROUP", "g", "STREAMS", "BLOCK", "3000", "STREAMS", "k", ">") == .blocking)
        #expect(hazard("XREADGROUP", "GROUP", "BLOCK", "c", "STREAMS", "k", ">") == nil)
        #expect(hazard("XREADGROUP", "GROUP", "g", "BLOCK", "STREAMS", "k", ">") == nil)
        // Non-ASCII bytes that fold to nothing special.
        #expect(SharedConnectionContract.hazard(of: [[0xD3, 0x45, 0x4C, 0x45, 0x43, 0x54]]) == nil)
        // A trailing NUL, and names longer than any refused one.
        #expect(SharedConnectionContract.hazard(of: [Array("SELECT".utf8) + [0]]) == nil)
        #expect(hazard("SUNSUBSCRIBEXXXXX") == nil)
        #expect(hazard(String(repeating: "B", count: 100_000)) == nil)
    }
}

/// Each command's call count from INFO commandstats (`cmdstat_get:calls=3,...` as "get": 3).
private func commandCalls(_ client: RedisClient) async throws -> [String: Int] {
    let info = try await client.send("INFO", "commandstats").string ?? ""
    var calls: [String: Int] = [:]
    for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
        let name = line.dropFirst("cmdstat_".count).prefix { $0 != ":" }
        let count = line.split(separator: "calls=").last?.prefix { $0.isNumber }
        calls[String(name)] = count.flatMap { Int($0) }
    }
    return calls
}
