@testable import ChatMemoryRedis
import ChatMemory
import Foundation
import Testing

extension TopologyFaults {
    /// SIGKILL of the primary of a private Sentinel group (a primary, 2 replicas, 3 sentinels;
    /// down-after 1 s; passwords on the data nodes and on the sentinels) while appenders write.
    @Suite("Sentinel faults: failover")
    struct SentinelFailoverTests {
        @Test(.timeLimit(.minutes(5)))
        func appendsFollowTheNewPrimaryAfterTheOldOneIsKilled() async throws {
            let sentinelPassword = "fault-sentinel-\(UUID().uuidString.prefix(8))"
            let dataPassword = "fault-data-\(UUID().uuidString.prefix(8))"
            try await PrivateTopology.with(.sentinel, ["--password", dataPassword, "--sentinel-password", sentinelPassword]) { group in
                var configuration = try RedisConfiguration.fromEnvironment([
                    "REDIS_URL": try group.variable("REDIS_SENTINEL_URL"),
                    "REDIS_SENTINEL_PASSWORD": sentinelPassword,
                ])
                configuration.commandTimeout = .seconds(60)
                configuration.connectTimeout = .seconds(60)
                try await withShutdown(RedisClient(configuration: configuration, logger: quietLogger)) { client in
                    let router = try #require(client.sentinelRouter)
                    let prefix = "fault-sentinel:"
                    // Every replica must confirm: whichever the sentinels promote holds every
                    // acknowledged append.
                    let durable = try faultMemory(client, prefix: prefix, replication: .init(replicas: 2, timeout: .milliseconds(500)))
                    let memory = try faultMemory(client, prefix: prefix)

                    /// Kills the primary while appenders write through `memory`; `recover` runs
                    /// once the sentinels name another primary.
                    func killThePrimary(_ memory: RedisChatMemory, label: String, recover: @escaping (Int) async throws -> Void = { _ in }) async throws -> FaultRun {
                        let killed = try #require(Int(try await group.script("primary").trimmingCharacters(in: .whitespacesAndNewlines)))
                        let sessions = (0..<3).map { "\(label)-\($0)-\(UUID().uuidString.prefix(8))" }
                        var before: RedisConfiguration.Endpoint?
                        var named: ContinuousClock.Instant?
                        let run = try await FaultRun.run(memory, sessions: sessions, label: label) {
                            before = router.currentPrimary
                            try await group.kill(killed)
                        } recover: {
                            try await waitUntil("the sentinels name a new primary") {
                                (try? await group.script("primary").trimmingCharacters(in: .whitespacesAndNewlines)) != String(killed)
                            }
                            named = .now
                            try await recover(killed)
                        }
                        print("sentinel: a new primary named after \(run.since(named)) ms")
                        let promoted = try await group.script("primary").trimmingCharacters(in: .whitespacesAndNewlines)
                        #expect(before == .tcp(host: "127.0.0.1", port: killed))
                        #expect(router.currentPrimary == .tcp(host: "127.0.0.1", port: Int(promoted) ?? 0), "sentinels name \(promoted)")
                        return run
                    }

                    // Replication on: appends fail (replicationIncomplete) until the killed node
                    // is back as a replica, then succeed; nothing acknowledged is lost.
                    let durableRun = try await killThePrimary(durable, label: "d") { killed in
                        try await group.waitHealthy()
                        try await group.restart(killed)
                    }
                    print("sentinel primary killed, replication on (recovery includes restarting the killed node): \(durableRun.summary); router \(router.statistics)")
                    #expect(durableRun.audit.lost.isEmpty && durableRun.audit.duplicated.isEmpty && durableRun.audit.outOfOrder.isEmpty, "\(durableRun.audit)")
                    try await group.waitHealthy()

                    // Replication off: the client follows by itself; losses are counted.
                    let plainRun = try await killThePrimary(memory, label: "k")
                    print("sentinel primary killed, replication off: \(plainRun.summary); router \(router.statistics)")
                    #expect(plainRun.audit.duplicated.isEmpty && plainRun.audit.outOfOrder.isEmpty, "\(plainRun.audit)")
                    #expect(plainRun.recovery != nil)
                }
            }
        }
    }
}
