import Logging

/// One connection pool per node address, made on first use and kept until ``shutdown()`` (a node
/// that fails may come back, as a replica or a primary). The cluster and Sentinel routers keep
/// their nodes' pools here.
final class NodePools: Sendable {
    private struct State {
        var pools: [RedisConfiguration.Endpoint: ConnectionPool] = [:]
        var isShutdown = false
    }

    private let settings: @Sendable (RedisConfiguration.Endpoint) -> RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    private let logger: Logger
    private let metadataKey: String
    private let metrics: ClientMetrics
    private let state = Locked(State())

    /// `settings` gives a node's configuration; its log lines carry the node's address under `metadataKey`.
    init(metadataKey: String, credentialsProvider: RedisCredentialsProvider?, logger: Logger, metrics: ClientMetrics,
         settings: @escaping @Sendable (RedisConfiguration.Endpoint) -> RedisConfiguration) {
        self.metadataKey = metadataKey
        self.credentialsProvider = credentialsProvider
        self.logger = logger
        self.metrics = metrics
        self.settings = settings
    }

    /// The pool of `node`; `.shutdown` once ``shutdown()`` ran.
    func pool(for node: RedisConfiguration.Endpoint) throws(RedisError) -> ConnectionPool {
        let pool: ConnectionPool? = state.withLock { state in
            guard !state.isShutdown else { return nil }
            if let pool = state.pools[node] { return pool }
            var logger = logger
            logger[metadataKey: metadataKey] = "\(node)"
            let pool = ConnectionPool(configuration: settings(node), credentialsProvider: credentialsProvider, logger: logger, metrics: metrics)
            state.pools[node] = pool
            return pool
        }
        guard let pool else { throw RedisError.clientShutDown }
        return pool
    }

    /// Refuses new pools and shuts every pool down.
    func shutdown() async {
        let pools = state.withLock { state in
            state.isShutdown = true
            return Array(state.pools.values)
        }
        for pool in pools { await pool.shutdown() }
    }
}
