@testable import ChatMemoryRedis
import ChatMemory
import Foundation
import Testing

/// The fault tests that start topologies of their own (moving slots, killing nodes): one at a
/// time, so that at most one private topology loads the two shared cores.
@Suite("Topology faults", .serialized) struct TopologyFaults {}

/// A chat memory over `client` with its own prefix and the cheap token counter.
func faultMemory(_ client: RedisClient, prefix: String, replication: ChatMemoryConfiguration.Replication? = nil) throws -> RedisChatMemory {
    var configuration = ChatMemoryConfiguration()
    configuration.keyPrefix = prefix
    configuration.tokenCounter = ApproximateTokenCounter()
    configuration.replication = replication
    // A safety net on the shared topologies: nothing a failed test leaves outlives it long.
    configuration.timeToLive = .seconds(900)
    return try RedisChatMemory(client: client, configuration: configuration)
}

/// Sessions spread over the shared cluster (Scripts/test.sh starts it).
@Suite("Cluster faults: sessions over every primary")
struct ClusterSpreadTests {
    @Test(.timeLimit(.minutes(5)))
    func aThousandSessionsSpreadOverEveryPrimaryAndReadBackThroughEachSeed() async throws {
        let url = try sharedTopologyVariable("REDIS_CLUSTER_URL")
        let ports = try sharedTopologyVariable("REDIS_CLUSTER_PORTS").split(separator: " ").compactMap { Int($0) }
        let prefix = "test-fault-spread-\(UUID().uuidString.prefix(8)):"
        let ids = (0..<1000).map { "session \($0) \(UUID().uuidString.prefix(8))" }
        let client = RedisClient(configuration: try clusterConfiguration(url), logger: quietLogger)
        try await withShutdown(client) { client in
            let memory = try faultMemory(client, prefix: prefix)
            do {
                try await forEachConcurrently(ids, width: 16) { id in
                    _ = try await memory.session(SessionID(id)).append(ChatMessage(id: "m \(id)", role: .user, content: "text of \(id)"))
                }
                // Each primary holds some: asked node by node, without routing.
                var held: [Int: Int] = [:]
                var found: Set<String> = []
                for port in ports where await nodeRole(port: port) == "master" {
                    let keys = try await scanKeys(port: port, matching: prefix + "*")
                    held[port] = keys.count
                    found.formUnion(keys)
                }
                #expect(held.count == 3, "primaries: \(held)")
                #expect(held.values.allSatisfy { $0 > 0 }, "sessions per primary: \(held)")
                #expect(found == Set(ids.map { prefix + $0 }))
                print("cluster spread: sessions per primary \(held.sorted { $0.key < $1.key }.map(\.value))")

                // Read back through each seed alone: one seed is enough to find every node.
                let seeds = singleSeedURLs(url)
                #expect(seeds.count == 3)
                for seed in seeds {
                    try await withShutdown(RedisClient(configuration: try clusterConfiguration(seed), logger: quietLogger)) { single in
                        let memory = try faultMemory(single, prefix: prefix)
                        try await forEachConcurrently(ids, width: 16) { id in
                            let messages = try await memory.session(SessionID(id)).all()
                            #expect(messages.map(\.id) == ["m \(id)"])
                            #expect(messages.first?.content == "text of \(id)")
                        }
                        let listed = try await memory.sessions().collected()
                        #expect(listed.count == ids.count)
                        #expect(Set(listed) == Set(try ids.map { try SessionID($0) }))
                        #expect(try await single.clusterRouter?.primaryPools(deadline: nil).count == 3)
                    }
                }
                try await forEachConcurrently(ids, width: 16) { id in _ = try await memory.delete(SessionID(id)) }
            } catch {
                try? await forEachConcurrently(ids, width: 16) { id in _ = try await memory.delete(SessionID(id)) }
                throw error
            }
        }
    }
}

extension TopologyFaults {
    /// Slots that hold live sessions move to another primary, by hand and step by step, while
    /// four `chat-memory` processes append to those sessions. A private cluster: a test that
    /// fails halfway must not leave a slot of the shared one migrating.
    @Suite("Cluster faults: live resharding")
    struct ClusterReshardingTests {
        @Test(.timeLimit(.minutes(5)))
        func movingSlotsUnderFourCLIWritersLosesNoAcknowledgedAppend() async throws {
            try await PrivateTopology.with(.cluster) { cluster in
                let url = try cluster.variable("REDIS_CLUSTER_URL")
                let prefix = "fault-reshard:"
                // Two hash tags in two slots; the writers' sessions, idle sessions and a probe
                // session of this test's own client live in them.
                var tags: [String] = []
                while tags.count < 2 {
                    let tag = "{\(UUID().uuidString.prefix(8))}"
                    if !tags.contains(where: { HashSlot.of(Array($0.utf8)) == HashSlot.of(Array(tag.utf8)) }) { tags.append(tag) }
                }
                let slots = tags.map { HashSlot.of(Array((prefix + $0 + "-chat").utf8)) }
                let chats = tags.map { $0 + "-chat" }
                let probe = tags[0] + "-probe"
                let idle = tags.flatMap { tag in (0..<6).map { "\(tag)-idle-\($0)" } }

                // The client's map is refreshed only when a redirect says so.
                let client = RedisClient(configuration: try clusterConfiguration(url) { $0.refreshInterval = .seconds(3600) }, logger: quietLogger)
                try await withShutdown(client) { client in
                    let memory = try faultMemory(client, prefix: prefix)
                    let router = try #require(client.clusterRouter)
                    for session in idle {
                        _ = try await memory.session(SessionID(session)).append(contentsOf: (1...3).map { ChatMessage(id: "\(session)-\($0)", role: .user, content: "idle") })
                    }
                    _ = try await memory.session(SessionID(probe)).append(ChatMessage(id: "p-1", role: .user, content: "before"))

                    let writers = try CLIAppenders(url: url, prefix: prefix, writers: [
                        ("w0", chats[0]), ("w1", chats[0]), ("w2", chats[1]), ("w3", chats[1]),
                    ])
                    do {
                        try await writers.waitForProgress(3, since: [:], "before the migration")
                        let moves = try await SlotMoves(slots: slots, nodePort: try cluster.ports("REDIS_CLUSTER_PORTS")[0])

                        try await moves.begin()
                        try await writers.waitForProgress(2, since: writers.acknowledged, "while the slots migrate, their keys still on the source")

                        try await moves.migrateKeys()
                        // The probe key left the source, whose slot still migrates: it answers ASK.
                        let beforeAsk = router.statistics
                        _ = try await memory.session(SessionID(probe)).append(ChatMessage(id: "p-2", role: .user, content: "during"))
                        #expect(router.statistics.ask > beforeAsk.ask, "\(router.statistics)")
                        try await writers.waitForProgress(2, since: writers.acknowledged, "while the keys sit on the target and the slots still migrate (ASK)")

                        try await moves.finish()
                        // The client's map still names the source, which now answers MOVED.
                        let beforeMoved = router.statistics
                        _ = try await memory.session(SessionID(probe)).append(ChatMessage(id: "p-3", role: .user, content: "after"))
                        #expect(router.statistics.moved > beforeMoved.moved, "\(router.statistics)")
                        try await writers.waitForProgress(2, since: writers.acknowledged, "after the slots moved")
                        await writers.stop()

                        let owners = try await ClusterShards.read(port: moves.targets[0])
                        for (slot, target) in zip(slots, moves.targets) { #expect(owners.shard(of: slot)?.primary == target) }
                        let audit = try await AppendAudit.of(memory, sessions: chats, acknowledged: writers.acknowledged)
                        let failures = writers.failures
                        print("cluster resharding: \(audit); CLI appends that failed: \(failures.count); client statistics \(router.statistics)")
                        #expect(audit.lost.isEmpty && audit.duplicated.isEmpty && audit.outOfOrder.isEmpty, "\(audit)")
                        #expect(audit.acknowledged >= 4 * 7)
                        #expect(failures.count == 0, "a migration should be invisible to writers: \(failures.sample)")
                        #expect(try await memory.session(SessionID(probe)).all().map(\.id) == ["p-1", "p-2", "p-3"])
                        for session in idle {
                            #expect(try await memory.session(SessionID(session)).all().map(\.id) == (1...3).map { "\(session)-\($0)" })
                        }
                        writers.removeFiles()
                    } catch {
                        await writers.stop()
                        print("cluster resharding failed; CLI failures: \(writers.failures)")
                        writers.removeFiles()
                        throw error
                    }
                }
            }
        }
    }
}

/// Moves slots from their owners to another primary the way `redis-cli --cluster reshard` does,
/// one step at a time: `begin` (IMPORTING on the target, MIGRATING on the source),
/// `migrateKeys` (MIGRATE until the source holds none), `finish` (SETSLOT NODE on every primary).
struct SlotMoves {
    let slots: [Int]
    let sources: [Int]
    let targets: [Int]
    let primaries: [Int]
    private let ids: [Int: String]

    init(slots: [Int], nodePort: Int) async throws {
        let shards = try await ClusterShards.read(port: nodePort)
        self.slots = slots
        primaries = shards.primaries
        sources = try slots.map { slot in try #require(shards.shard(of: slot)?.primary) }
        targets = try sources.map { source in try #require(shards.primaries.first { $0 != source }) }
        var ids: [Int: String] = [:]
        for port in primaries {
            let reply = try await withNodeClient(port: port) { try await $0.send("CLUSTER", "MYID") }
            guard let id = reply.string else { throw TopologyScriptFailed(description: "CLUSTER MYID on \(port) returned \(reply)") }
            ids[port] = id
        }
        self.ids = ids
    }

    /// `CLUSTER <arguments>` on the node on `port`.
    private func cluster(_ port: Int, _ arguments: any RedisArgument...) async throws {
        _ = try await withNodeClient(port: port) { try await $0.send(RedisCommand("CLUSTER", arguments)) }
    }

    func begin() async throws {
        for (index, slot) in slots.enumerated() {
            try await cluster(targets[index], "SETSLOT", slot, "IMPORTING", ids[sources[index]] ?? "")
            try await cluster(sources[index], "SETSLOT", slot, "MIGRATING", ids[targets[index]] ?? "")
        }
    }

    func migrateKeys() async throws {
        for (index, slot) in slots.enumerated() {
            try await withNodeClient(port: sources[index]) { source in
                while true {
                    let keys = try await source.send("CLUSTER", "GETKEYSINSLOT", slot, 100).array ?? []
                    if keys.isEmpty { break }
                    let migrate: [any RedisArgument] = ["127.0.0.1", targets[index], "", 0, 60_000, "KEYS"]
                        + keys.compactMap { key in key.bytes.map { $0 as any RedisArgument } }
                    _ = try await source.send(RedisCommand("MIGRATE", migrate))
                }
            }
        }
    }

    func finish() async throws {
        for (index, slot) in slots.enumerated() {
            let order = [targets[index], sources[index]] + primaries.filter { $0 != targets[index] && $0 != sources[index] }
            for port in order { try await cluster(port, "SETSLOT", slot, "NODE", ids[targets[index]] ?? "") }
        }
    }
}
