import ChatMemoryRedis
import Foundation
import Testing

/// The Redis Cluster and the Sentinel group that Scripts/test.sh starts (REDIS_CLUSTER_URL,
/// REDIS_SENTINEL_URL and REDIS_SENTINEL_PASSWORD). Missing ones fail the test.
enum TestTopologies {
    static func cluster(_ adjust: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration(url: try variable("REDIS_CLUSTER_URL"))
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(60)
        adjust(&configuration)
        return configuration
    }

    static func sentinel(_ adjust: (inout RedisConfiguration) -> Void = { _ in }) throws -> RedisConfiguration {
        var configuration = try RedisConfiguration.fromEnvironment([
            "REDIS_URL": try variable("REDIS_SENTINEL_URL"),
            "REDIS_SENTINEL_PASSWORD": try variable("TEST_SENTINEL_PASSWORD"),
        ])
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(60)
        adjust(&configuration)
        return configuration
    }

    /// The ports of every node of the test cluster (primaries and replicas).
    static func clusterPorts() throws -> [Int] {
        try variable("REDIS_CLUSTER_PORTS").split(separator: " ").compactMap { Int($0) }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw TopologyMissing(variable: name) }
        return value
    }
}

struct TopologyMissing: Error, CustomStringConvertible {
    var variable: String
    var description: String { "\(variable) is not set: run the tests with Scripts/test.sh, which starts a Redis Cluster and a Sentinel group" }
}

/// A client of one node of the test cluster, bypassing the cluster routing (for admin commands).
func withNode<R>(port: Int, _ body: (RedisClient) async throws -> R) async throws -> R {
    var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
    configuration.commandTimeout = .seconds(60)
    return try await withClient(configuration: configuration, body)
}
