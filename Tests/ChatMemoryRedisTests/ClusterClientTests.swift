@testable import ChatMemoryRedis
import Foundation
import Testing

/// The client against the real Redis Cluster that Scripts/test.sh starts (3 primaries, 3 replicas).
@Suite struct ClusterClientTests {
    /// Keys that land on every primary: `count` keys with a unique prefix.
    private func keys(_ count: Int, _ label: String = #function) -> [String] {
        let prefix = "test:\(label.prefix { $0 != "(" }):\(UUID().uuidString):"
        return (0..<count).map { prefix + String($0) }
    }

    @Test func pipelinesSplitByNodeAnswerInTheCallersOrder() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let keys = keys(300)
            let sets = keys.map { RedisCommand("SET", $0, "value of \($0)") }
            let replies = try await client.pipeline(sets + keys.map { RedisCommand("GET", $0) } + [RedisCommand("PING")])
            #expect(replies.count == 601)
            for (index, key) in keys.enumerated() {
                #expect(try replies[300 + index].get().string == "value of \(key)")
            }
            #expect(try replies[600].get() == .status("PONG"))
            // The keys really were spread over every primary.
            let router = try #require(client.clusterRouter)
            let primaries = try await router.primaryPools(deadline: nil)
            #expect(primaries.count == 3)
            var owners = Set<String>()
            for key in keys {
                // Sent to a node without routing: the others answer MOVED.
                for pool in primaries where (try? await client.send(RedisCommand("EXISTS", key), on: pool)) == .integer(1) {
                    owners.insert(ObjectIdentifier(pool).debugDescription)
                }
            }
            #expect(owners.count == 3)
            _ = try await client.pipeline(keys.map { RedisCommand("DEL", $0) })
        }
    }

    @Test func keysInDifferentSlotsAreRefusedBeforeSending() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let error = await expectRedisError(.server(.crossSlot)) { try await client.send("MGET", "foo", "bar") }
            #expect(error?.mayHaveRun == false)
            await expectRedisError(.server(.crossSlot)) {
                _ = try await client.transaction([RedisCommand("SET", "foo", "1"), RedisCommand("SET", "bar", "1")])
            }
            // Nothing was written by the refused transaction; one within a hash tag runs.
            let tag = "{\(UUID().uuidString)}"
            let results = try await client.transaction([RedisCommand("SET", tag + "a", "1"), RedisCommand("INCR", tag + "a"), RedisCommand("MGET", tag + "a", tag + "b")])
            #expect(try results[2].get() == .array([.bulkString(Array("2".utf8)), .null]))
            try await client.send("DEL", tag + "a")
        }
    }

    @Test func scriptsAreLoadedOnTheNodeThatOwnsTheirKey() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            // Every node forgets its scripts; each node then loads the script on its first use.
            for port in try TestTopologies.clusterPorts() {
                try await withNode(port: port) { node in _ = try await node.send("SCRIPT", "FLUSH") }
            }
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1]) .. ':\(UUID().uuidString)'")
            let keys = keys(30)
            for key in keys {
                let reply = try await client.evaluate(script, keys: [key], arguments: [5])
                #expect(reply.string?.hasPrefix("5:") == true)
            }
            // Follow-ups run on the same node, after the script.
            let (reply, followUps) = try await client.evaluate(script, keys: [keys[0]], arguments: [1], then: [RedisCommand("GET", keys[0]), RedisCommand("WAIT", 1, 1000)])
            #expect(reply.string?.hasPrefix("6:") == true)
            #expect(try followUps[0].get().string == "6")
            #expect(try followUps[1].get().int == 1)
            _ = try await client.pipeline(keys.map { RedisCommand("DEL", $0) })
        }
    }

    @Test func scanVisitsEveryPrimary() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            let keys = keys(500)
            _ = try await client.pipeline(keys.map { RedisCommand("RPUSH", $0, "x") })
            let prefix = String(keys[0].dropLast())
            var found: [String] = []
            for try await batch in client.scan(matching: prefix + "*", type: "list", count: 50) {
                found += batch.map { String(decoding: $0, as: UTF8.self) }
            }
            #expect(Set(found) == Set(keys))
            var strings = 0
            for try await batch in client.scan(matching: prefix + "*", type: "string") { strings += batch.count }
            #expect(strings == 0)
            _ = try await client.pipeline(keys.map { RedisCommand("DEL", $0) })
        }
    }

    @Test func dedicatedConnectionsGoToTheNodeOfTheirKey() async throws {
        try await withClient(configuration: try TestTopologies.cluster()) { client in
            for key in keys(6) {
                let results = try await client.withDedicatedConnection(routingKey: key) { connection in
                    try await connection.send("WATCH", key)
                    try await connection.send("MULTI")
                    try await connection.send("SET", key, "watched")
                    return try await connection.send("EXEC")
                }
                #expect(results == .array([.status("OK")]))
                #expect(try await client.send("GET", key).string == "watched")
                try await client.send("DEL", key)
            }
        }
    }

    /// Moves the slot of a key to another primary by hand, step by step, while the client writes
    /// to it: during the move the source answers `ASK` (the key left), afterwards `MOVED`.
    ///
    /// The cluster is shared with tests running beside this one, and once the target claims the
    /// slot, the source deletes every key of that slot it still holds. So the key is one whose
    /// slot holds no other key, and every key the slot holds is moved (as a resharding does), in
    /// case another test created one meanwhile.
    @Test func askAndMovedAreFollowedDuringAMigration() async throws {
        // No refresh by age: on a slow run (the thread sanitizer) the map must still be the old
        // one when the moved slot is written, so that the source answers MOVED.
        let configuration = try TestTopologies.cluster { configuration in
            guard case .cluster(var cluster) = configuration.topology else { return }
            cluster.refreshInterval = .seconds(3600)
            configuration.topology = .cluster(cluster)
        }
        try await withClient(configuration: configuration) { client in
            let ports = try TestTopologies.clusterPorts()
            var primaries: [(port: Int, id: String)] = []
            for port in ports {
                try await withNode(port: port) { node in
                    guard try await node.send("ROLE").array?.first?.string == "master" else { return }
                    primaries.append((port, try #require(try await node.send("CLUSTER", "MYID").string)))
                }
            }
            /// The primaries that hold a key in `slot` (its owner, or none).
            func holders(of slot: Int) async throws -> [(port: Int, id: String)] {
                var holders: [(port: Int, id: String)] = []
                for primary in primaries {
                    let count = try await withNode(port: primary.port) { try await $0.send("CLUSTER", "COUNTKEYSINSLOT", slot).int ?? 0 }
                    if count > 0 { holders.append(primary) }
                }
                return holders
            }
            var key = keys(1)[0]
            while try await !holders(of: HashSlot.of(Array(key.utf8))).isEmpty { key = keys(1)[0] }
            try await client.send("RPUSH", key, "before")
            let slot = HashSlot.of(Array(key.utf8))
            // Who owns the slot, and another primary to move it to.
            let source = try #require(try await holders(of: slot).first)
            let target = try #require(primaries.first { $0.port != source.port })
            let router = try #require(client.clusterRouter)
            let before = router.statistics

            try await withNode(port: target.port) { node in _ = try await node.send("CLUSTER", "SETSLOT", slot, "IMPORTING", source.id) }
            try await withNode(port: source.port) { node in
                _ = try await node.send("CLUSTER", "SETSLOT", slot, "MIGRATING", target.id)
                // Every key of the slot: this test's, and any other test created meanwhile.
                while let held = try await node.send("CLUSTER", "GETKEYSINSLOT", slot, 100).array, !held.isEmpty {
                    let arguments: [any RedisArgument] = ["127.0.0.1", target.port, "", 0, 60_000, "KEYS"]
                    _ = try await node.send(RedisCommand("MIGRATE", arguments + held.compactMap(\.bytes)))
                }
            }
            // The key is on the target now, the slot still the source's: the source says ASK.
            try await client.send("RPUSH", key, "during")
            #expect(router.statistics.ask > before.ask)

            for port in [target.port, source.port] + primaries.map(\.port) {
                try await withNode(port: port) { node in _ = try await node.send("CLUSTER", "SETSLOT", slot, "NODE", target.id) }
            }
            // The client's map still names the source: it answers MOVED, and the client follows.
            try await client.send("RPUSH", key, "after")
            #expect(router.statistics.moved > before.moved)
            #expect(try await client.send("LRANGE", key, 0, -1) == .array(["before", "during", "after"].map { .bulkString(Array($0.utf8)) }))
            try await client.send("DEL", key)
        }
    }

    @Test func aClusterNobodyAnswersForFailsWithinTheTimeout() async throws {
        var configuration = try RedisConfiguration(url: "redis+cluster://127.0.0.1:1,127.0.0.1:2")
        configuration.commandTimeout = .seconds(2)
        try await withClient(configuration: configuration) { client in
            do {
                try await client.send("GET", "k")
                Issue.record("a cluster without nodes answered")
            } catch let error as RedisError {
                #expect(error.mayHaveRun == false)
                #expect([.server(.clusterDown), .connectionRefused].contains(error.code), "\(error)")
            }
        }
    }
}

/// The client against the Sentinel group that Scripts/test.sh starts (a primary, 2 replicas,
/// 3 sentinels; the data nodes and the sentinels have different passwords).
@Suite struct SentinelClientTests {
    @Test func findsThePrimaryAndAuthenticatesToSentinelsApart() async throws {
        try await withClient(configuration: try TestTopologies.sentinel()) { client in
            let key = "test:sentinel:\(UUID().uuidString)"
            try await client.send("SET", key, "v")
            #expect(try await client.send("GET", key).string == "v")
            #expect(try await client.send("ROLE").array?.first?.string == "master")
            let (_, waited) = try await client.evaluate(RedisScript("return redis.call('SET', KEYS[1], 'w')"), keys: [key], then: [RedisCommand("WAIT", 2, 5000)])
            #expect(try waited[0].get().int == 2)
            try await client.send("DEL", key)
        }
    }

    @Test func aWrongSentinelPasswordIsATypedErrorThatNeverShowsIt() async throws {
        let configuration = try TestTopologies.sentinel { configuration in
            guard case .sentinel(var sentinel) = configuration.topology else { return }
            sentinel.credentials = .init(password: "Wrong-Sentinel-Pass-77")
            configuration.topology = .sentinel(sentinel)
            configuration.commandTimeout = .seconds(3)
        }
        try await withClient(configuration: configuration) { client in
            do {
                try await client.send("PING")
                Issue.record("a wrong sentinel password was accepted")
            } catch let error as RedisError {
                #expect(error.mayHaveRun == false)
                #expect(!"\(error)".contains("Wrong-Sentinel-Pass-77"))
            }
        }
    }
}
