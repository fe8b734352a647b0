import Logging

/// Routes commands over a Redis Cluster: a pool per node, the slot map from `CLUSTER SLOTS`,
/// `MOVED` and `ASK` followed, and retries with backoff while the cluster heals.
///
/// - `MOVED`: the unit is sent again at once to the node named, that slot is fixed in the map,
///   and a refresh of the whole map is started (one at a time, at most one per
///   ``minimumRefreshGap``).
/// - `ASK`: `ASKING` and the unit go to the node named in one write; the map is left alone.
/// - `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `READONLY`, and a node that cannot be
///   reached: tried again as the ``RetryPolicy`` says (``RedisConfiguration/Cluster/maxRetries``
///   times, backoff from ``RedisConfiguration/Cluster/retryBackoff`` doubling to half a second,
///   with jitter), the map refreshed first (except after `TRYAGAIN` and `LOADING`).
/// - A unit that may have reached a node when its connection broke is tried again only when all
///   its commands only read; otherwise the error reaches the caller with `mayHaveRun` set (the
///   chat memory's append is safe to try again by message id, and does so itself).
final class ClusterRouter: CommandRouter {
    /// The shortest time between two refreshes of the slot map.
    static let minimumRefreshGap: Duration = .milliseconds(100)

    private struct State {
        var map = SlotMap()
        var mapUpdated: ContinuousClock.Instant?
        var refresh: Task<Void, Never>?
        var lastRefreshStart: ContinuousClock.Instant?
        var isShutdown = false
        var nextPrimary = 0
        /// Why the last refresh found no map, for the errors of calls that then have no node.
        var refreshFailure: String?
    }

    /// How often each kind of redirect was followed (for tests and logs).
    struct Statistics: Sendable {
        var moved = 0
        var ask = 0
        var retries = 0
        var refreshes = 0
    }

    private let configuration: RedisConfiguration
    private let cluster: RedisConfiguration.Cluster
    /// When to try a unit again; its longest wait is short (half a second), so a promoted
    /// replica is found soon after the cluster names it.
    private let retryPolicy: RetryPolicy
    private let pools: NodePools
    private let logger: Logger
    private let state = Locked(State())
    private let counters = Locked(Statistics())

    init(configuration: RedisConfiguration, cluster: RedisConfiguration.Cluster, credentialsProvider: RedisCredentialsProvider?, logger: Logger, metrics: ClientMetrics) {
        self.configuration = configuration
        self.cluster = cluster
        retryPolicy = RetryPolicy(maxRetries: cluster.maxRetries, initialBackoff: cluster.retryBackoff)
        pools = NodePools(metadataKey: "redis.node", credentialsProvider: credentialsProvider, logger: logger, metrics: metrics) { node in
            configuration.node(node)
        }
        self.logger = logger
    }

    var statistics: Statistics { counters.withLock { $0 } }

    // MARK: Running units

    func run(_ units: [[RedisCommand]], deadline: ContinuousClock.Instant?) async throws -> [[Result<RedisValue, RedisError>]] {
        // A unit whose keys share no slot is refused before sending: alone, the call throws; in
        // a pipeline, that command fails and the others run.
        let routes = units.map { unit in Result { () throws(RedisError) in try Self.slot(of: unit) } }
        if units.count == 1 {
            let slot = try routes[0].get()
            await refreshIfStale(deadline: deadline)
            return [try await run(units[0], slot: slot, deadline: deadline)]
        }
        await refreshIfStale(deadline: deadline)
        var slots = [Int?](repeating: nil, count: units.count)
        var refused: [Int: RedisError] = [:]
        for (index, route) in routes.enumerated() {
            switch route {
            case .success(let slot): slots[index] = slot
            case .failure(let error): refused[index] = error
            }
        }
        // One write per node, the units in the caller's order (so a SET then a GET of one key
        // stay in that order); the nodes in parallel.
        var groups: [RedisConfiguration.Endpoint: [Int]] = [:]
        var order: [RedisConfiguration.Endpoint] = []
        for index in units.indices where refused[index] == nil {
            guard let node = node(for: slots[index]) else { continue }
            if groups[node] == nil { order.append(node) }
            groups[node, default: []].append(index)
        }
        var firstReplies: [Int: (node: RedisConfiguration.Endpoint, replies: [Result<RedisValue, RedisError>])] = [:]
        try await withThrowingTaskGroup(of: (RedisConfiguration.Endpoint, [Int], [[Result<RedisValue, RedisError>]]?).self) { group in
            for node in order {
                let indexes = groups[node] ?? []
                group.addTask {
                    let batch = indexes.map { units[$0] }
                    do {
                        let replies = try await self.pool(for: node).execute(batch.flatMap { $0 }, deadline: deadline).replies
                        return (node, indexes, RoutedUnits.split(replies, like: batch))
                    } catch let error as RedisError where RetryPolicy.isConnectionFailure(error) {
                        // Each unit is tried again on its own below, when that is safe.
                        guard self.retryPolicy.allowsRetry(after: error, safeToRepeat: batch.allSatisfy(CommandTable.onlyReads)) else { throw error }
                        return (node, indexes, nil)
                    }
                }
            }
            for try await (node, indexes, replies) in group {
                guard let replies else { continue }
                for (position, index) in indexes.enumerated() { firstReplies[index] = (node, replies[position]) }
            }
        }
        // Units that were redirected, refused for now, or not sent follow their own way, in order.
        var results: [[Result<RedisValue, RedisError>]] = []
        results.reserveCapacity(units.count)
        for index in units.indices {
            if let error = refused[index] {
                results.append(units[index].map { _ in .failure(error) })
            } else {
                results.append(try await run(units[index], slot: slots[index], deadline: deadline, first: firstReplies[index]))
            }
        }
        return results
    }

    /// The one slot every key of the unit hashes to; `nil` without keys. Keys in different slots
    /// are refused before anything is sent, as the server would (`CROSSSLOT`).
    static func slot(of unit: [RedisCommand]) throws(RedisError) -> Int? {
        var slot: Int?
        for command in unit {
            for key in CommandKeys.keys(of: command.arguments) {
                let keySlot = HashSlot.of(key)
                if let slot, slot != keySlot {
                    throw RedisError(.server(.crossSlot), "CROSSSLOT Keys in request don't hash to the same slot (refused by the client before sending; use a hash tag such as {user42} to keep keys together)")
                }
                slot = keySlot
            }
        }
        return slot
    }

    /// Runs one unit, following redirects and retrying while the cluster heals.
    /// `first` holds the replies of a first attempt made with other units, if any.
    private func run(
        _ unit: [RedisCommand], slot: Int?, deadline: ContinuousClock.Instant?,
        first: (node: RedisConfiguration.Endpoint, replies: [Result<RedisValue, RedisError>])? = nil
    ) async throws -> [Result<RedisValue, RedisError>] {
        var redirects = 0
        var retries = 0
        var target: RedisConfiguration.Endpoint?
        var asking = false
        let isTransaction = unit.first?.name == "MULTI"
        var first = first
        while true {
            let node: RedisConfiguration.Endpoint
            let replies: [Result<RedisValue, RedisError>]
            if let attempt = first {
                (node, replies) = attempt
                first = nil
            } else if let chosen = target ?? self.node(for: slot) {
                node = chosen
                do {
                    replies = try await send(unit, to: node, asking: asking, deadline: deadline)
                } catch let error as RedisError where RetryPolicy.isConnectionFailure(error) {
                    // The node is gone or unreachable: learn the new map and try again, unless
                    // the unit may have run and is not safe to run twice.
                    logger.debug("cluster node failed", metadata: ["redis.node": "\(node)", "error": "\(error)"])
                    target = nil
                    asking = false
                    guard retryPolicy.allowsRetry(after: error, safeToRepeat: CommandTable.onlyReads(unit)) else {
                        requestRefresh()
                        throw error
                    }
                    retries += 1
                    guard try await pause(retries: retries, deadline: deadline, refresh: true) else { throw error }
                    continue
                }
            } else {
                // No map yet (or no node serves the slot): wait for a refresh, then try again.
                retries += 1
                let error = RedisError(.server(.clusterDown), "CLUSTERDOWN no known node serves slot \(slot.map(String.init) ?? "any") (\(mapFailure))")
                guard try await pause(retries: retries, deadline: deadline, refresh: true) else { throw error }
                continue
            }
            asking = false
            target = nil
            switch ClusterReply.first(in: replies, from: node) {
            case nil:
                return replies
            case .moved(let movedSlot, let to):
                redirects += 1
                counters.withLock { $0.moved += 1 }
                try checkRedirects(redirects, replies)
                state.withLock { $0.map.assign(movedSlot, to: to) }
                requestRefresh()
                target = to
            case .ask(_, let to):
                redirects += 1
                counters.withLock { $0.ask += 1 }
                try checkRedirects(redirects, replies)
                if isTransaction {
                    // `ASKING` does not carry over a transaction's queued commands: wait for the
                    // migration of this slot to end instead.
                    retries += 1
                    guard try await pause(retries: retries, deadline: deadline, refresh: false) else { return replies }
                } else {
                    target = to
                    asking = true
                }
            case .retry(let error):
                retries += 1
                let refresh = error.code != .server(.tryAgain) && error.code != .server(.loading)
                guard try await pause(retries: retries, deadline: deadline, refresh: refresh) else { return replies }
            }
        }
    }

    /// Sends the unit to `node` in one write, after `ASKING` when asked.
    private func send(_ unit: [RedisCommand], to node: RedisConfiguration.Endpoint, asking: Bool, deadline: ContinuousClock.Instant?) async throws -> [Result<RedisValue, RedisError>] {
        let commands = asking ? Self.askingPrefixed(unit) : unit
        let replies = try await pool(for: node).execute(commands, deadline: deadline).replies
        return asking ? Self.droppingAskingReplies(replies, of: unit) : replies
    }

    private func checkRedirects(_ redirects: Int, _ replies: [Result<RedisValue, RedisError>]) throws {
        guard redirects > cluster.maxRedirects else { return }
        let last = replies.compactMap { reply -> RedisError? in if case .failure(let error) = reply { return error } else { return nil } }.first
        throw RedisError(last?.code ?? .server(.moved), "followed \(cluster.maxRedirects) redirects without reaching the node that serves the key (last: \(last?.message ?? "none"))")
    }

    /// Waits before the next try, refreshing the map first when asked; false (give up) once the
    /// retries or the deadline run out. Throws `.shutdown` once the client is shut down.
    private func pause(retries: Int, deadline: ContinuousClock.Instant?, refresh: Bool) async throws -> Bool {
        counters.withLock { $0.retries += 1 }
        guard !state.withLock({ $0.isShutdown }) else { throw RedisError.clientShutDown }
        guard retryPolicy.hasRetry(retries) else { return false }
        if refresh, let running = requestRefresh() {
            guard await RoutedUnits.value(of: running, before: deadline) != nil else {
                try Task.checkCancellation()
                return false
            }
        }
        return try await retryPolicy.pause(beforeRetry: retries, deadline: deadline)
    }

    /// `ASKING` before every command of the unit that has keys.
    private static func askingPrefixed(_ unit: [RedisCommand]) -> [RedisCommand] {
        unit.flatMap { command in CommandKeys.keys(of: command.arguments).isEmpty ? [command] : [RedisCommand("ASKING"), command] }
    }

    /// The unit's replies without those of the `ASKING`s that `askingPrefixed` added.
    private static func droppingAskingReplies(_ replies: [Result<RedisValue, RedisError>], of unit: [RedisCommand]) -> [Result<RedisValue, RedisError>] {
        var result: [Result<RedisValue, RedisError>] = []
        var index = 0
        for command in unit {
            if !CommandKeys.keys(of: command.arguments).isEmpty { index += 1 }
            if index < replies.count { result.append(replies[index]) }
            index += 1
        }
        return result
    }

    // MARK: Nodes and pools

    /// The primary that serves `slot`, or the next primary in turn for a unit without keys.
    private func node(for slot: Int?) -> RedisConfiguration.Endpoint? {
        state.withLock { state in
            if let slot { return state.map.owners[slot] }
            guard !state.map.primaries.isEmpty else { return cluster.seeds.first }
            state.nextPrimary = (state.nextPrimary + 1) % state.map.primaries.count
            return state.map.primaries[state.nextPrimary]
        }
    }

    /// The pool of `node` (see ``NodePools``).
    private func pool(for node: RedisConfiguration.Endpoint) throws(RedisError) -> ConnectionPool {
        try pools.pool(for: node)
    }

    func withDedicatedConnection<R: Sendable>(routingKey: [UInt8]?, _ body: (RedisConnection) async throws -> R) async throws -> R {
        await refreshIfStale(deadline: configuration.commandTimeout.map { ContinuousClock.now + $0 })
        guard let node = node(for: routingKey.map(HashSlot.of)) else {
            throw RedisError(.server(.clusterDown), "CLUSTERDOWN no known node serves that key (\(mapFailure))")
        }
        return try await pool(for: node).withDedicatedConnection(body)
    }

    func primaryPools(deadline: ContinuousClock.Instant?) async throws -> [ConnectionPool] {
        await refreshIfStale(deadline: deadline)
        let primaries = state.withLock { $0.map.primaries }
        guard !primaries.isEmpty else {
            throw RedisError(.server(.clusterDown), "CLUSTERDOWN \(mapFailure)")
        }
        return try primaries.map { node throws(RedisError) in try pool(for: node) }
    }

    func shutdown() async {
        let refresh = state.withLock { state in
            state.isShutdown = true
            return state.refresh
        }
        refresh?.cancel()
        await pools.shutdown()
    }

    // MARK: The slot map

    /// Reads the map when there is none yet; starts a refresh in the background when it is older
    /// than `refreshInterval`.
    private func refreshIfStale(deadline: ContinuousClock.Instant?) async {
        let (updated, refresh) = state.withLock { ($0.mapUpdated, $0.refresh) }
        guard let updated else {
            if let running = refresh ?? requestRefresh() { _ = await RoutedUnits.value(of: running, before: deadline) }
            return
        }
        if ContinuousClock.now - updated > cluster.refreshInterval { requestRefresh() }
    }

    /// Starts a refresh of the slot map unless one is running (then returns that one) or one
    /// started less than ``minimumRefreshGap`` ago (then returns `nil`). A scan step calls it
    /// when a primary failed, since its `SCAN` does not go through ``run(_:deadline:)``.
    @discardableResult
    func requestRefresh() -> Task<Void, Never>? {
        state.withLock { state in
            guard !state.isShutdown else { return nil }
            if let running = state.refresh { return running }
            let now = ContinuousClock.now
            if let last = state.lastRefreshStart, now - last < Self.minimumRefreshGap { return nil }
            state.lastRefreshStart = now
            let task = Task { await self.refreshMap() }
            state.refresh = task
            return task
        }
    }

    /// Why there is no slot map: the last node's answer to `CLUSTER SLOTS`.
    private var mapFailure: String {
        "the slot map could not be read from any node" + (state.withLock { $0.refreshFailure }.map { "; last: \($0)" } ?? "")
    }

    /// Asks the known nodes, then the seeds, for `CLUSTER SLOTS` until one answers with a map.
    private func refreshMap() async {
        defer { state.withLock { $0.refresh = nil } }
        counters.withLock { $0.refreshes += 1 }
        let known = state.withLock { $0.map.primaries + $0.map.nodes }
        var candidates: [RedisConfiguration.Endpoint] = []
        for node in known + cluster.seeds where !candidates.contains(node) { candidates.append(node) }
        // Each node gets the command timeout (callers stop waiting at their own deadline, so a
        // slow node delays only this shared lookup); without one, 10 s.
        let timeout = configuration.commandTimeout.map { min($0, RedisConfiguration.maximumTimeout) } ?? .seconds(10)
        for node in candidates {
            guard !Task.isCancelled else { return }
            do {
                let deadline = ContinuousClock.now + timeout
                let reply = try await pool(for: node).execute([RedisCommand("CLUSTER", "SLOTS")], deadline: deadline).replies[0].get()
                let map = try SlotMap(clusterSlots: reply, answeredBy: node)
                guard !map.primaries.isEmpty else { continue }
                state.withLock { state in
                    state.map = map
                    state.mapUpdated = .now
                    state.refreshFailure = nil
                }
                logger.debug("cluster slot map refreshed", metadata: ["redis.node": "\(node)", "redis.primaries": "\(map.primaries.count)", "redis.complete": "\(map.coversEverySlot)"])
                return
            } catch {
                state.withLock { $0.refreshFailure = "\(node): \(error)" }
                logger.debug("cluster node could not give the slot map", metadata: ["redis.node": "\(node)", "error": "\(error)"])
            }
        }
    }
}
