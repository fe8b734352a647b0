@testable import ChatMemoryRedis
import ChatMemory
import Foundation
import Testing

extension TopologyFaults {
    /// Failovers of a private cluster (3 primaries with a replica each, 1 s node timeout) while
    /// appenders write to sessions of the primary that fails. Each shard is found by a slot of
    /// its own (100, 8000, 16000), whichever node serves it at the time.
    @Suite("Cluster faults: failover")
    struct ClusterFailoverTests {
        @Test(.timeLimit(.minutes(5)))
        func appendsFollowAManualFailoverAndAKilledPrimary() async throws {
            try await PrivateTopology.with(.cluster) { cluster in
                let url = try cluster.variable("REDIS_CLUSTER_URL")
                let anyNode = try cluster.ports("REDIS_CLUSTER_PORTS")
                let prefix = "fault-failover:"
                try await withShutdown(RedisClient(configuration: try clusterConfiguration(url), logger: quietLogger)) { client in
                    let memory = try faultMemory(client, prefix: prefix)
                    let durable = try faultMemory(client, prefix: prefix, replication: .init(replicas: 1, timeout: .milliseconds(500)))

                    /// The shard that serves `slot` now, and 3 sessions of it.
                    func shard(serving slot: Int, label: String) async throws -> (primary: Int, replica: Int, sessions: [String]) {
                        var shards: ClusterShards?
                        for port in anyNode where shards == nil { shards = try? await ClusterShards.read(port: port) }
                        let shard = try #require(shards?.shard(of: slot))
                        let replica = try #require(shard.replicas.first)
                        return (shard.primary, replica, sessionIDs(3, prefix: prefix, label: label) { slot in shard.slots.contains { $0.contains(slot) } })
                    }

                    // (a) CLUSTER FAILOVER on a replica: the primary hands over once the replica
                    // caught up, so nothing acknowledged may be lost.
                    let manual = try await shard(serving: 100, label: "manual")
                    let handover = try await FaultRun.run(memory, sessions: manual.sessions, label: "m") {
                        _ = try await withNodeClient(port: manual.replica) { try await $0.send("CLUSTER", "FAILOVER") }
                    } recover: {
                        try await waitUntil("the replica \(manual.replica) takes over") {
                            let (promoted, demoted) = (await nodeRole(port: manual.replica), await nodeRole(port: manual.primary))
                            return promoted == "master" && demoted == "slave"
                        }
                    }
                    print("cluster manual failover: \(handover.summary)")
                    #expect(handover.audit.lost.isEmpty && handover.audit.duplicated.isEmpty && handover.audit.outOfOrder.isEmpty, "\(handover.audit)")
                    try await cluster.waitHealthy()

                    // (b) SIGKILL of a primary with replication on: every acknowledged append
                    // reached the replica that takes over. That one has no replica until the
                    // killed node comes back (as its replica), so appends fail until then.
                    let durableShard = try await shard(serving: 8000, label: "durable")
                    let durableRun = try await FaultRun.run(durable, sessions: durableShard.sessions, label: "d") {
                        try await cluster.kill(durableShard.primary)
                    } recover: {
                        try await waitUntil("the replica \(durableShard.replica) takes over") { await nodeRole(port: durableShard.replica) == "master" }
                        try await cluster.restart(durableShard.primary)
                    }
                    print("cluster primary killed, replication on (recovery includes restarting the killed node): \(durableRun.summary)")
                    #expect(durableRun.audit.lost.isEmpty && durableRun.audit.duplicated.isEmpty && durableRun.audit.outOfOrder.isEmpty, "\(durableRun.audit)")
                    try await cluster.waitHealthy()

                    // (c) SIGKILL of a primary without replication: the client finds the replica
                    // that took over by itself; appends the primary acknowledged but had not sent
                    // to its replica yet are lost (counted, not asserted).
                    let plainShard = try await shard(serving: 16000, label: "plain")
                    let statisticsBefore = try #require(client.clusterRouter).statistics
                    var promoted: ContinuousClock.Instant?
                    let plainRun = try await FaultRun.run(memory, sessions: plainShard.sessions, label: "k") {
                        try await cluster.kill(plainShard.primary)
                    } recover: {
                        try await waitUntil("the replica \(plainShard.replica) takes over") { await nodeRole(port: plainShard.replica) == "master" }
                        promoted = .now
                    }
                    let statistics = try #require(client.clusterRouter).statistics
                    print("cluster primary killed, replication off: replica promoted after \(plainRun.since(promoted)) ms, \(plainRun.summary); retries \(statistics.retries - statisticsBefore.retries), map refreshes \(statistics.refreshes - statisticsBefore.refreshes)")
                    #expect(plainRun.audit.duplicated.isEmpty && plainRun.audit.outOfOrder.isEmpty, "\(plainRun.audit)")
                    #expect(plainRun.recovery != nil)
                    #expect(await nodeRole(port: plainShard.replica) == "master")
                }
            }
        }
    }
}
