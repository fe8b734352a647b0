@testable import ChatMemoryRedis
import Foundation
import Logging
import Testing

/// A Redis Cluster or Sentinel group of a test's own, run by Scripts/redis-cluster.sh or
/// Scripts/redis-sentinel.sh in a temporary folder (free loopback ports), for tests that kill
/// nodes or move slots. ``with(_:_:_:)`` always stops it.
struct PrivateTopology: Sendable {
    enum Kind: String, Sendable {
        case cluster = "redis-cluster.sh"
        case sentinel = "redis-sentinel.sh"
    }

    let kind: Kind
    let folder: String
    /// What the script wrote to DIR/env (REDIS_CLUSTER_URL, REDIS_SENTINEL_DATA_PORTS, ...).
    let environment: [String: String]

    /// Starts a topology (extra `arguments` go to `start`, e.g. `--password`), runs `body` with
    /// it, and stops it whether `body` succeeds or throws.
    static func with<R>(_ kind: Kind, _ arguments: [String] = [], _ body: (PrivateTopology) async throws -> R) async throws -> R {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-fault-\(UUID().uuidString.prefix(8))").path
        do {
            _ = try await TopologyScript.run(kind.rawValue, ["start", folder] + arguments)
            let topology = PrivateTopology(kind: kind, folder: folder, environment: try await TopologyScript.environment(of: folder + "/env"))
            let result = try await body(topology)
            await topology.stop()
            return result
        } catch {
            _ = try? await TopologyScript.run(kind.rawValue, ["stop", folder])
            throw error
        }
    }

    func stop() async {
        _ = try? await TopologyScript.run(kind.rawValue, ["stop", folder])
    }

    /// Runs `redis-<kind>.sh COMMAND DIR ARGUMENTS...` and returns its standard output.
    @discardableResult
    func script(_ command: String, _ arguments: [String] = []) async throws -> String {
        try await TopologyScript.run(kind.rawValue, [command, folder] + arguments)
    }

    func variable(_ name: String) throws -> String {
        guard let value = environment[name] else { throw TopologyScriptFailed(description: "\(folder)/env has no \(name)") }
        return value
    }

    func ports(_ name: String) throws -> [Int] {
        try variable(name).split(separator: " ").compactMap { Int($0) }
    }

    /// SIGKILLs the server on `port` and waits until it is gone.
    func kill(_ port: Int) async throws { try await script("kill-node", [String(port)]) }
    /// Starts the server on `port` again.
    func restart(_ port: Int) async throws { try await script("restart-node", [String(port)]) }
    /// Waits (60 s at most) until the topology is healthy again.
    func waitHealthy() async throws { try await script("wait-healthy") }
}

/// Runs the topology scripts of Scripts/ as child processes (without blocking a thread).
enum TopologyScript {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts").path

    /// Runs `Scripts/<script> ARGUMENTS...`; its standard output, or an error with its error output.
    static func run(_ script: String, _ arguments: [String]) async throws -> String {
        try await runBash([folder + "/" + script] + arguments, environment: ProcessInfo.processInfo.environment)
    }

    /// The variables a DIR/env file exports (read by bash in an empty environment).
    static func environment(of file: String) async throws -> [String: String] {
        let output = try await runBash(
            ["-c", #"source "$1" && for name in $(compgen -v REDIS_); do printf '%s=%s\n' "$name" "${!name}"; done"#, "bash", file],
            environment: ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        var variables: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            variables[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return variables
    }

    private static func runBash(_ arguments: [String], environment: [String: String]) async throws -> String {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-script-\(UUID().uuidString)").path
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let child = try CLIChildProcess(["/bin/bash"] + arguments, environment: environment, stdin: nil, stdout: base + ".out", stderr: base + ".err")
        let status = await child.exitStatus()
        let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            throw TopologyScriptFailed(description: "\(arguments.prefix(3).joined(separator: " ")) exited \(status): \(errors.suffix(3000))")
        }
        return output
    }
}

struct TopologyScriptFailed: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body` with a client of the one node on 127.0.0.1:`port` (no routing; for admin
/// commands), and always shuts it down.
func withNodeClient<R>(port: Int, password: String? = nil, _ body: (RedisClient) async throws -> R) async throws -> R {
    var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
    if let password, !password.isEmpty { configuration.credentials = .init(password: password) }
    configuration.commandTimeout = .seconds(60)
    return try await withShutdown(RedisClient(configuration: configuration, logger: quietLogger), body)
}

/// Errors only: the warnings of nodes that are down on purpose would drown the test output.
let quietLogger: Logger = {
    var logger = Logger(label: "redis")
    logger.logLevel = .error
    return logger
}()

/// Runs `body` with `client`, then shuts the client down, also when `body` throws.
func withShutdown<R>(_ client: RedisClient, _ body: (RedisClient) async throws -> R) async throws -> R {
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Who serves which slots of a cluster, from `CLUSTER NODES` of one of its nodes (`CLUSTER
/// SLOTS` leaves out replicas that have not received data yet).
struct ClusterShards: Sendable {
    struct Shard: Sendable {
        var slots: [ClosedRange<Int>]
        var primary: Int
        var replicas: [Int]
    }

    var shards: [Shard]

    static func read(port: Int, password: String? = nil) async throws -> ClusterShards {
        let reply = try await withNodeClient(port: port, password: password) { try await $0.send("CLUSTER", "NODES") }
        guard let text = reply.string else { throw TopologyScriptFailed(description: "CLUSTER NODES returned \(reply)") }
        // <id> <ip:port@bus> <flags> <primary id or -> <ping> <pong> <epoch> <link> <slot ranges...>
        let nodes = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count >= 8 && !$0[2].contains("fail") }
        func portOf(_ fields: [String]) -> Int? { fields[1].split(separator: "@").first?.split(separator: ":").last.flatMap { Int($0) } }
        var shards: [Shard] = []
        for fields in nodes where fields[2].contains("master") && fields.count > 8 {
            guard let primary = portOf(fields) else { continue }
            // Ranges are `a-b` or `a`; `[slot->-id]` marks a migration, not ownership.
            let slots = fields.dropFirst(8).filter { !$0.hasPrefix("[") }.compactMap { range -> ClosedRange<Int>? in
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                return bounds.count == 2 ? bounds[0]...bounds[1] : bounds.count == 1 ? bounds[0]...bounds[0] : nil
            }
            let replicas = nodes.filter { $0[3] == fields[0] && $0[2].contains("slave") }.compactMap(portOf)
            shards.append(Shard(slots: slots, primary: primary, replicas: replicas.sorted()))
        }
        return ClusterShards(shards: shards.sorted { $0.primary < $1.primary })
    }

    var primaries: [Int] { shards.map(\.primary) }

    func shard(of slot: Int) -> Shard? {
        shards.first { $0.slots.contains { $0.contains(slot) } }
    }

    func shard(primary: Int) -> Shard? {
        shards.first { $0.primary == primary }
    }
}

/// `count` session ids, each unique to this call, whose keys (`prefix` + id) hash to a slot that
/// `accept` takes.
func sessionIDs(_ count: Int, prefix: String, label: String, where accept: (Int) -> Bool) -> [String] {
    var ids: [String] = []
    while ids.count < count {
        let id = "\(label)-\(ids.count)-\(UUID().uuidString.prefix(8))"
        if accept(HashSlot.of(Array((prefix + id).utf8))) { ids.append(id) }
    }
    return ids
}

/// Polls `condition` every 20 ms until it holds; fails after `limit` (a hang guard, not a bound
/// on how fast anything must be).
func waitUntil(_ what: String, limit: Duration = .seconds(120), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TopologyScriptFailed(description: "gave up waiting (\(limit)): \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// The role (`master` or `slave`) of the node on `port`, or nil when it does not answer.
func nodeRole(port: Int, password: String? = nil) async -> String? {
    try? await withNodeClient(port: port, password: password) { client in
        try await client.send("ROLE").array?.first?.string
    }
}

/// The shared topologies that Scripts/test.sh starts: a missing variable fails the test.
func sharedTopologyVariable(_ name: String) throws -> String {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw TopologyScriptFailed(description: "\(name) is not set: run the tests with Scripts/test.sh, which starts a Redis Cluster and a Sentinel group")
    }
    return value
}

/// A cluster client configuration from `url`, with generous timeouts (hang guards only).
func clusterConfiguration(_ url: String, _ adjust: (inout RedisConfiguration.Cluster) -> Void = { _ in }) throws -> RedisConfiguration {
    var configuration = try RedisConfiguration(url: url)
    configuration.commandTimeout = .seconds(60)
    configuration.connectTimeout = .seconds(60)
    if case .cluster(var cluster) = configuration.topology {
        adjust(&cluster)
        configuration.topology = .cluster(cluster)
    }
    return configuration
}

/// `redis+cluster://[userinfo@]a,b,c[/...]` as one URL per seed, each naming that seed alone.
func singleSeedURLs(_ url: String) -> [String] {
    let scheme = "redis+cluster://"
    guard url.hasPrefix(scheme) else { return [] }
    var rest = Substring(url.dropFirst(scheme.count))
    var userinfo = ""
    if let at = rest.lastIndex(of: "@") {
        userinfo = String(rest[...at])
        rest = rest[rest.index(after: at)...]
    }
    let end = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
    return rest[..<end].split(separator: ",").map { scheme + userinfo + $0 + rest[end...] }
}

/// Every key of the node on `port` that matches `pattern` (SCAN, so the node is not blocked).
func scanKeys(port: Int, password: String? = nil, matching pattern: String) async throws -> [String] {
    try await withNodeClient(port: port, password: password) { client in
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await client.send("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { throw TopologyScriptFailed(description: "SCAN returned \(reply)") }
            keys += (parts[1].array ?? []).compactMap(\.string)
            cursor = next
        } while cursor != "0"
        return keys
    }
}

/// Runs `body` on every item, at most `width` at a time.
func forEachConcurrently<T: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var pending = items.makeIterator()
        for _ in 0..<width {
            guard let item = pending.next() else { break }
            group.addTask { try await body(item) }
        }
        while try await group.next() != nil {
            if let item = pending.next() { group.addTask { try await body(item) } }
        }
    }
}
