import Logging

/// Routes commands to the primary that a group of sentinels monitors, and follows it to a new
/// primary after a failover.
///
/// The primary is found by asking the sentinels in turn (`SENTINEL GET-MASTER-ADDR-BY-NAME`) and
/// checked with `ROLE` before use. It is looked up again when a connection to it fails, when it
/// answers `READONLY` (it was demoted), and when a sentinel announces `+switch-master` (a
/// subscription kept open while the client runs). Sentinels get their own credentials.
///
/// A unit that may have run when its connection broke is not sent again unless it only reads;
/// the error reaches the caller with `mayHaveRun` set. A unit refused with `READONLY` did not run
/// and is sent again to the new primary.
final class SentinelRouter: CommandRouter {
    private struct State {
        var primary: RedisConfiguration.Endpoint?
        var discovery: Task<Result<RedisConfiguration.Endpoint, RedisError>, Never>?
        var watcher: Task<Void, Never>?
        var isShutdown = false
    }

    /// How often the primary changed, for tests and logs.
    struct Statistics: Sendable {
        var discoveries = 0
        var switchMessages = 0
    }

    private let configuration: RedisConfiguration
    private let sentinel: RedisConfiguration.Sentinel
    /// The data nodes' pools, and a small pool per sentinel (the sentinels' credentials,
    /// database 0, one connection).
    private let dataPools: NodePools
    private let sentinelPools: NodePools
    private let logger: Logger
    private let state = Locked(State())
    private let counters = Locked(Statistics())
    /// When a unit is tried again while the primary is being replaced: 40 times, backoff from
    /// 25 ms doubling to half a second, with jitter; the command timeout ends the wait first.
    let retryPolicy = RetryPolicy(maxRetries: 40)

    init(configuration: RedisConfiguration, sentinel: RedisConfiguration.Sentinel, credentialsProvider: RedisCredentialsProvider?, logger: Logger, metrics: ClientMetrics) {
        self.configuration = configuration
        self.sentinel = sentinel
        dataPools = NodePools(metadataKey: "redis.node", credentialsProvider: credentialsProvider, logger: logger, metrics: metrics) { node in
            configuration.node(node)
        }
        sentinelPools = NodePools(metadataKey: "redis.sentinel", credentialsProvider: nil, logger: logger, metrics: metrics) { address in
            var settings = configuration.node(address)
            settings.credentials = sentinel.credentials
            settings.database = 0
            settings.pool.size = 1
            return settings
        }
        var logger = logger
        logger[metadataKey: "redis.master"] = "\(sentinel.masterName)"
        self.logger = logger
    }

    var statistics: Statistics { counters.withLock { $0 } }

    /// The primary in use now, if one is known.
    var currentPrimary: RedisConfiguration.Endpoint? { state.withLock { $0.primary } }

    func run(_ units: [[RedisCommand]], deadline: ContinuousClock.Instant?) async throws -> [[Result<RedisValue, RedisError>]] {
        let commands = units.flatMap { $0 }
        var retries = 0
        while true {
            let (primary, pool) = try await primaryPool(deadline: deadline)
            do {
                let replies = try await pool.execute(commands, deadline: deadline).replies
                let demoted = replies.contains { reply in
                    if case .failure(let error) = reply { return error.code == .server(.readOnly) }
                    return false
                }
                guard demoted else { return RoutedUnits.split(replies, like: units) }
                // READONLY: the node is a replica now, and the refused writes did not run. Send
                // the batch again only when nothing else in it can have written: every other
                // command failed too, or only reads (a node demoted in the middle of a batch
                // may have run its first writes).
                forget(primary)
                let resendable = zip(commands, replies).allSatisfy { command, reply in
                    if case .failure = reply { return true }
                    return CommandTable.onlyReads([command])
                }
                guard resendable else { return RoutedUnits.split(replies, like: units) }
                retries += 1
                guard try await retryPolicy.pause(beforeRetry: retries, deadline: deadline) else {
                    return RoutedUnits.split(replies, like: units)
                }
            } catch let error as RedisError where RetryPolicy.isConnectionFailure(error) {
                logger.debug("primary failed; asking the sentinels again", metadata: ["redis.node": "\(primary)", "error": "\(error)"])
                forget(primary)
                guard retryPolicy.allowsRetry(after: error, safeToRepeat: CommandTable.onlyReads(commands)) else { throw error }
                retries += 1
                guard try await retryPolicy.pause(beforeRetry: retries, deadline: deadline) else { throw error }
            }
        }
    }

    func withDedicatedConnection<R: Sendable>(routingKey: [UInt8]?, _ body: (RedisConnection) async throws -> R) async throws -> R {
        let deadline = configuration.commandTimeout.map { ContinuousClock.now + $0 }
        return try await primaryPool(deadline: deadline).pool.withDedicatedConnection(body)
    }

    func primaryPools(deadline: ContinuousClock.Instant?) async throws -> [ConnectionPool] {
        [try await primaryPool(deadline: deadline).pool]
    }

    func shutdown() async {
        let (watcher, discovery) = state.withLock { state in
            state.isShutdown = true
            return (state.watcher, state.discovery)
        }
        watcher?.cancel()
        discovery?.cancel()
        await dataPools.shutdown()
        await sentinelPools.shutdown()
    }

    // MARK: Finding the primary

    /// The primary and its pool, asking the sentinels when none is known (one search at a time;
    /// searches are retried with backoff until `deadline`).
    private func primaryPool(deadline: ContinuousClock.Instant?) async throws -> (endpoint: RedisConfiguration.Endpoint, pool: ConnectionPool) {
        startWatcher()
        var attempts = 0
        while true {
            if let primary = state.withLock({ $0.primary }) { return (primary, try pool(for: primary)) }
            let search: Task<Result<RedisConfiguration.Endpoint, RedisError>, Never>? = state.withLock { state in
                guard !state.isShutdown else { return nil }
                if let running = state.discovery { return running }
                let task = Task { await self.discover() }
                state.discovery = task
                return task
            }
            guard let search else { throw RedisError.clientShutDown }
            guard let found = await RoutedUnits.value(of: search, before: deadline) else {
                try Task.checkCancellation()
                throw RedisError(.timeout, "the sentinels named no primary for '\(sentinel.masterName)' within the command timeout; nothing was sent")
            }
            switch found {
            case .success(let primary): return (primary, try pool(for: primary))
            case .failure(let error):
                attempts += 1
                guard try await retryPolicy.pause(beforeRetry: attempts, deadline: deadline) else { throw error }
            }
        }
    }

    /// Forgets `primary` (if it is still the one in use), so the next unit asks the sentinels.
    private func forget(_ primary: RedisConfiguration.Endpoint) {
        state.withLock { state in
            if state.primary == primary { state.primary = nil }
        }
    }

    /// Asks each sentinel for the primary's address and keeps the first one that says `ROLE` master.
    private func discover() async -> Result<RedisConfiguration.Endpoint, RedisError> {
        defer { state.withLock { $0.discovery = nil } }
        counters.withLock { $0.discoveries += 1 }
        var lastError = RedisError(.connectionRefused, "no sentinel of '\(sentinel.masterName)' could be reached")
        // Each node gets the command timeout (callers stop waiting at their own deadline, so a
        // slow node delays only this shared lookup); without one, 10 s.
        let timeout = configuration.commandTimeout.map { min($0, RedisConfiguration.maximumTimeout) } ?? .seconds(10)
        for address in sentinel.sentinels {
            do {
                let deadline = ContinuousClock.now + timeout
                let reply = try await sentinelPool(for: address).execute([RedisCommand("SENTINEL", "GET-MASTER-ADDR-BY-NAME", sentinel.masterName)], deadline: deadline).replies[0].get()
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string, !host.isEmpty,
                      let port = parts[1].string.flatMap({ Int($0) }), (1...65535).contains(port) else {
                    lastError = RedisError(.unexpectedReply, "sentinel \(address) does not know a primary named '\(sentinel.masterName)'")
                    continue
                }
                let candidate = RedisConfiguration.Endpoint.tcp(host: host, port: port)
                let role = try await pool(for: candidate).execute([RedisCommand("ROLE")], deadline: deadline).replies[0].get()
                guard role.array?.first?.string == "master" else {
                    lastError = RedisError(.server(.readOnly), "READONLY \(candidate), named by sentinel \(address), is not a primary (yet)")
                    continue
                }
                adopt(candidate, reason: "sentinel \(address)")
                return .success(candidate)
            } catch let error as RedisError {
                lastError = error
            } catch {
                lastError = RedisError(.io, "\(error)")
            }
        }
        logger.debug("no primary found", metadata: ["error": "\(lastError)"])
        return .failure(lastError)
    }

    private func adopt(_ primary: RedisConfiguration.Endpoint, reason: String) {
        let previous = state.withLock { state in
            defer { state.primary = primary }
            return state.primary
        }
        if previous != primary {
            logger.debug("primary found", metadata: ["redis.node": "\(primary)", "redis.source": "\(reason)"])
        }
    }

    // MARK: Following +switch-master

    /// Starts, once, the task that listens to the sentinels' `+switch-master` announcements. It
    /// holds the router weakly between subscriptions, so a client released without `shutdown()`
    /// stops it within one quiet minute.
    private func startWatcher() {
        state.withLock { state in
            guard state.watcher == nil, !state.isShutdown else { return }
            state.watcher = Task { [weak self] in
                var failures = 0
                var index = 0
                while !Task.isCancelled, let router = self {
                    if await router.watch(sentinel: index) { failures = 0 } else { failures += 1 }
                    index += 1
                    if failures > 0 { try? await Task.sleep(for: router.retryPolicy.backoff(beforeRetry: failures)) }
                }
            }
        }
    }

    /// Subscribes to `+switch-master` on the `index`-th sentinel (in turn) and adopts each new
    /// primary announced for this master name, until the subscription fails or stays quiet for a
    /// minute; true when it subscribed.
    private func watch(sentinel index: Int) async -> Bool {
        let address = sentinel.sentinels[index % sentinel.sentinels.count]
        var subscribed = false
        do {
            try await sentinelPool(for: address).withDedicatedConnection { connection in
                let subscriber = RedisDedicatedConnection(connection: connection, commandTimeout: configuration.commandTimeout, blockingCommandTimeout: .seconds(60))
                try await subscriber.send("SUBSCRIBE", "+switch-master")
                subscribed = true
                while !Task.isCancelled {
                    handle(try await subscriber.receive())
                }
            }
        } catch {
            logger.trace("sentinel subscription ended", metadata: ["redis.sentinel": "\(address)", "error": "\(error)"])
        }
        return subscribed
    }

    /// `["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]`.
    private func handle(_ message: RedisValue) {
        guard let parts = message.array, parts.count == 3, parts[0].string == "message", let text = parts[2].string else { return }
        let words = text.split(separator: " ")
        guard words.count == 5, words[0] == sentinel.masterName, let port = Int(words[4]), (1...65535).contains(port) else { return }
        counters.withLock { $0.switchMessages += 1 }
        adopt(.tcp(host: String(words[3]), port: port), reason: "+switch-master")
    }

    // MARK: Pools

    private func pool(for node: RedisConfiguration.Endpoint) throws(RedisError) -> ConnectionPool {
        try dataPools.pool(for: node)
    }

    private func sentinelPool(for address: RedisConfiguration.Endpoint) throws(RedisError) -> ConnectionPool {
        try sentinelPools.pool(for: address)
    }
}
