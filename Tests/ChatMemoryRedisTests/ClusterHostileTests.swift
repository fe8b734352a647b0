@testable import ChatMemoryRedis
import Foundation
import Testing

/// Cluster routing fed what a careless user or an attacker would send: argument counts the
/// server refuses, `numkeys` up to `Int.max`, names that look like keywords.
@Suite struct ClusterHostileTests {
    @Test(arguments: [
        // A blocking pop with no key and no timeout (it used to trap on an empty range).
        (["BLPOP"], []),
        (["BZPOPMAX"], []),
        (["BRPOP", "k"], []),
        // A numkeys of Int.max (it used to overflow when added to its position).
        (["EVAL", "return 1", "9223372036854775807", "k"], ["k"]),
        (["FCALL", "f", "9223372036854775807"], []),
        (["LMPOP", "9223372036854775807", "a", "b"], ["a", "b"]),
        (["BZMPOP", "0", "9223372036854775807", "a"], ["a"]),
        (["ZUNIONSTORE", "d", "9223372036854775807", "a"], ["d", "a"]),
        (["EVAL", "return 1", "-9223372036854775808", "k"], []),
        // XREADGROUP's group or consumer may be called "streams".
        (["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "s1", ">"], ["s1"]),
        (["XREADGROUP", "GROUP", "g", "Streams", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">"], ["s1", "s2"]),
        (["XREADGROUP", "GROUP", "streams", "streams"], []),
        (["XREAD", "STREAMS"], []),
        // BITOP's keys follow the operation.
        (["BITOP", "AND", "dst", "a", "b"], ["dst", "a", "b"]),
        (["BITOP", "NOT"], []),
    ] as [([String], [String])])
    func keysOfHostileCommands(command: [String], keys: [String]) {
        #expect(CommandKeys.keys(of: command.map { Array($0.utf8) }) == keys.map { Array($0.utf8) })
    }

    /// Every command name the router knows, with every arity up to 6 and numbers at the edges,
    /// gives keys without trapping; each key is one of the arguments.
    @Test func keysNeverTrapWhateverTheArguments() {
        let names = ["DEL", "MSET", "RENAME", "BLPOP", "BZPOPMIN", "EVAL", "EVALSHA_RO", "FCALL", "LMPOP", "SINTERCARD",
                     "BLMPOP", "BZMPOP", "ZUNIONSTORE", "ZDIFFSTORE", "XREAD", "XREADGROUP", "OBJECT", "XGROUP", "MEMORY",
                     "BITOP", "GET", "PING", "MULTI", "lmpop", "xread"]
        let values = ["0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "99999999999999999999", "STREAMS", "streams", "", "k"]
        var random = SystemRandomNumberGenerator()
        for name in names {
            for arity in 0...6 {
                for _ in 0..<50 {
                    let arguments = [Array(name.utf8)] + (0..<arity).map { _ in Array(values.randomElement(using: &random)!.utf8) }
                    for key in CommandKeys.keys(of: arguments) {
                        #expect(arguments.dropFirst().contains(key))
                    }
                }
            }
        }
    }

    /// Redis 6 lists `CLUSTER SLOTS` by node, in an order that changes from node to node; the
    /// map lists primaries by slot, so a scan cursor's node index keeps naming the same shard.
    @Test func primariesAreListedInSlotOrderWhateverTheReplysOrder() throws {
        func range(_ start: Int64, _ end: Int64, _ port: Int64) -> RedisValue {
            .array([.integer(start), .integer(end), .array([.bulkString(Array("127.0.0.1".utf8)), .integer(port)])])
        }
        let reply = RedisValue.array([range(10000, 16383, 7002), range(0, 99, 7001), range(5000, 9999, 7000), range(100, 4999, 7001)])
        let map = try SlotMap(clusterSlots: reply, answeredBy: .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.primaries == [7001, 7000, 7002].map { .tcp(host: "127.0.0.1", port: $0) })
        #expect(map.nodes.count == 3 && map.coversEverySlot)
    }

    /// A reply naming a node per slot (16384 nodes) is read, each node once.
    @Test func aSlotMapOfSixteenThousandNodesIsRead() throws {
        func node(_ host: String, _ port: Int64) -> RedisValue { .array([.bulkString(Array(host.utf8)), .integer(port)]) }
        let ranges: [RedisValue] = (0..<Int64(HashSlot.count)).map { (slot: Int64) -> RedisValue in
            .array([.integer(slot), .integer(slot), node("10.0.0.1", 1 + slot), node("10.0.0.2", 1 + slot)])
        }
        let reply = RedisValue.array(ranges)
        let map = try SlotMap(clusterSlots: reply, answeredBy: .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.primaries.count == HashSlot.count && map.nodes.count == 2 * HashSlot.count)
        #expect(map.owners[16383] == RedisConfiguration.Endpoint.tcp(host: "10.0.0.1", port: 16384))
    }

    /// A master name with a broken `%` escape is named as such, not as a missing name.
    @Test func aBrokenEscapeInTheMasterNameIsNamed() {
        for url in ["redis+sentinel://h/%ZZ", "redis+sentinel://h/m%4"] {
            let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
            #expect(error?.message.contains("percent-encoding") == true, "\(String(describing: error))")
        }
    }

    /// The same commands against the real cluster: the server's own error, never a trap, and a
    /// valid command never refused by the client.
    @Test func hostileCommandsReachTheServerOrRunThere() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let tag = "{\(UUID().uuidString)}"
            await expectRedisError(.server(.generic)) {
                _ = try await client.send("EVAL", "return 1", "9223372036854775807", tag + "a")
            }
            do {
                _ = try await client.transaction([RedisCommand("BLPOP")])
                Issue.record("a BLPOP without arguments was queued")
            } catch let error as RedisError {
                #expect(error.code != .server(.crossSlot), "\(error)")
            }
            // A group named "streams" and BITOP in a transaction, all keys under one tag.
            try await client.send("XADD", tag + "s", "*", "f", "v")
            try await client.send("XGROUP", "CREATE", tag + "s", "streams", "0")
            let read = try await client.send("XREADGROUP", "GROUP", "streams", "consumer", "STREAMS", tag + "s", ">")
            #expect(read.array?.count == 1)
            try await client.send("SET", tag + "a", "x")
            let results = try await client.transaction([RedisCommand("BITOP", "AND", tag + "d", tag + "a", tag + "a"), RedisCommand("GET", tag + "d")])
            #expect(try results[1].get().string == "x")
            try await client.send("DEL", tag + "s", tag + "a", tag + "d")
        }
    }

    /// A call that waits for a cluster no node of which answers ends with `.shutdown` once the
    /// client is shut down, instead of retrying on for its whole retry budget.
    @Test func shutdownEndsACallWaitingForTheCluster() async throws {
        var configuration = try RedisConfiguration(url: "redis+cluster://127.0.0.1:1")
        configuration.commandTimeout = nil
        let client = RedisClient(configuration: configuration)
        let router = try #require(client.clusterRouter)
        let call = Task { try await client.send("GET", "k") }
        while router.statistics.retries < 1 { try await Task.sleep(for: .milliseconds(10)) }
        await client.shutdown()
        do {
            _ = try await call.value
            Issue.record("a cluster without nodes answered")
        } catch let error as RedisError {
            #expect(error.code == .shutdown, "\(error)")
            #expect(error.mayHaveRun == false)
        }
    }

    @Test func aCommandWhoseKeysShareNoSlotFailsAloneInAPipeline() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let replies = try await client.pipeline([RedisCommand("PING"), RedisCommand("MGET", "foo", "bar"), RedisCommand("PING")])
            #expect(try replies[0].get() == .status("PONG") && (try replies[2].get()) == .status("PONG"))
            guard case .failure(let error) = replies[1] else { Issue.record("MGET foo bar ran"); return }
            #expect(error.code == .server(.crossSlot) && !error.mayHaveRun)
        }
    }

    @Test func aScanCursorNamingAPrimaryThatIsNotThereIsATypedError() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let forged = try #require(RedisScanCursor("7:0"))
            await expectRedisError(.invalidCommand) { _ = try await client.scan(from: forged) }
            #expect(RedisScanCursor("-1:0") == nil && RedisScanCursor("1:x") == nil && RedisScanCursor("1") == nil)
        }
    }

    /// Sentinels that accept connections and never answer (stopped with SIGSTOP): the call ends
    /// at its own deadline, not after asking each sentinel in turn.
    @Test func aLookupOfSilentSentinelsEndsAtTheCallsDeadline() async throws {
        try await withPrivateServer { first in
            try await withPrivateServer { second in
                first.suspend()
                second.suspend()
                defer { first.resume(); second.resume() }
                var configuration = RedisConfiguration()
                configuration.topology = .sentinel(.init(sentinels: [.tcp(host: "127.0.0.1", port: first.port), .tcp(host: "127.0.0.1", port: second.port)], masterName: "m"))
                configuration.commandTimeout = .seconds(1)
                try await withClient(configuration: configuration) { client in
                    let error = await expectRedisError(.timeout) { try await client.send("PING") }
                    #expect(error?.message.contains("within the command timeout") == true, "\(String(describing: error))")
                    #expect(error?.mayHaveRun == false)
                }
            }
        }
    }
}
