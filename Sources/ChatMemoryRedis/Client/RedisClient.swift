import Logging

/// A shared, thread-safe Redis client with a bounded connection pool and an async API.
///
/// The same client talks to one server, to a Redis Cluster or to a Sentinel-managed primary,
/// as its configuration's ``RedisConfiguration/topology`` says (a `redis+cluster://` or
/// `redis+sentinel://` URL sets it): the API is the same. On a cluster each command goes to the
/// primary that serves its key's hash slot (commands without keys go to any primary), redirects
/// are followed, and the keys of one command, one ``transaction(_:logger:)`` or one script must share a
/// slot (use a hash tag, `{user42}:a` and `{user42}:b`): otherwise the call fails with
/// `.server(.crossSlot)` before anything is sent. See ``RedisConfiguration/Topology``.
///
/// Create one per process and share it between tasks and request handlers. Commands are argument
/// vectors, so any bytes are safe; server error replies are thrown as ``RedisError``. Each
/// connection owns an I/O thread, started with its first request: call ``shutdown()`` when you
/// are done, which ends them. `commandTimeout` bounds each whole call: waiting for a connection,
/// waiting in its queue, connecting and reading the reply.
///
/// Pooled connections are shared, so commands that change or hold a connection (`SELECT`,
/// `MULTI`, `WATCH`, `SUBSCRIBE`, `MONITOR`, `CLIENT REPLY`, `BLPOP`, `XREAD ... BLOCK`...) are
/// refused there with `.requiresDedicatedConnection`, before anything is sent; run them inside
/// ``withDedicatedConnection(blockingCommandTimeout:routingKey:_:)``.
///
/// A configuration that ``RedisConfiguration/validate()`` refuses does not trap: the client opens
/// no connection and every call throws that `.invalidConfiguration` error. The client never
/// changes a process-wide signal disposition: each I/O thread blocks SIGPIPE for itself, so a
/// write to a connection the server closed is a ``RedisError``, not the end of the process.
///
/// ```swift
/// let client = RedisClient(configuration: try .fromEnvironment(), logger: logger)
/// try await client.send("LPUSH", "chat:42", "hello")
/// let newest = try await client.send("LRANGE", "chat:42", 0, 9)
/// await client.shutdown()
/// ```
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    /// Where commands go, or why the configuration was refused.
    let backend: Result<Backend, RedisError>
    private let logger: Logger
    /// Where metrics and spans go (see ``Observability``).
    public let observability: Observability
    let instruments: ClientInstruments
    /// `configuration.commandTimeout`, at most ``RedisConfiguration/maximumTimeout``.
    private let commandTimeout: Duration?

    /// Creates the client; connections open lazily, on first use. An invalid configuration is
    /// logged and thrown by every call. A `credentialsProvider` is asked for the credentials of
    /// every new connection, instead of `configuration.credentials` (see ``RedisCredentialsProvider``).
    /// The client logs at `debug` and `trace` only; each call can take a logger of its own.
    public init(configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger = Logger(label: "redis"),
                observability: Observability = Observability()) {
        self.configuration = configuration
        self.logger = logger
        self.observability = observability
        instruments = ClientInstruments(configuration: configuration, observability: observability)
        commandTimeout = configuration.commandTimeout.map { min($0, RedisConfiguration.maximumTimeout) }
        do throws(RedisError) {
            try configuration.validate()
            backend = .success(Backend(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, metrics: instruments.metrics))
            logger.debug("redis client created", metadata: ["redis": "\(configuration)"])
        } catch {
            backend = .failure(error)
            logger.debug("invalid Redis configuration; every call will fail", metadata: ["error": "\(error)"])
        }
    }

    /// Sends one command and returns its reply; an error reply is thrown. `logger` (default: the
    /// client's) gets this call's `trace` and `debug` lines, with its metadata (a request id...).
    @discardableResult
    public func send(_ command: RedisCommand, logger: Logger? = nil) async throws -> RedisValue {
        try await pipeline([command], logger: logger)[0].get()
    }

    /// Sends one command given by name and arguments.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument..., logger: Logger? = nil) async throws -> RedisValue {
        try await send(RedisCommand(name, arguments), logger: logger)
    }

    /// Sends many commands in one write and returns each reply in order, in one round trip.
    /// A server error for one command does not stop the others: it is that command's `.failure`.
    /// A connection failure throws.
    ///
    /// A command that changes or holds the connection (`SELECT`, `MULTI`, `SUBSCRIBE`, `BLPOP`,
    /// `CLIENT REPLY`...) is refused with `.requiresDedicatedConnection` and nothing is sent; run
    /// it inside ``withDedicatedConnection(blockingCommandTimeout:routingKey:_:)``.
    public func pipeline(_ commands: [RedisCommand], logger: Logger? = nil) async throws -> [Result<RedisValue, RedisError>] {
        try checkShared(commands, inTransaction: false)
        return try await run(commands, logger: logger ?? self.logger)
    }

    /// Runs the commands atomically inside `MULTI`/`EXEC`, in one round trip, and returns the
    /// result of each command. A command the server refuses to queue aborts the whole transaction.
    /// Commands that change the connection's state (`SELECT`, `MULTI`, `WATCH`...) are refused
    /// with `.requiresDedicatedConnection` before anything is sent; blocking commands are allowed
    /// (inside a transaction they do not block). For `WATCH`, use a dedicated connection.
    public func transaction(_ commands: [RedisCommand], logger: Logger? = nil) async throws -> [Result<RedisValue, RedisError>] {
        try checkShared(commands, inTransaction: true)
        let replies = try await runUnit([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")], inTransaction: true, logger: logger ?? self.logger)
        for reply in replies.dropLast() {
            if case .failure(let error) = reply { throw error }
        }
        guard case .array(let results) = try replies[replies.count - 1].get() else {
            throw RedisError(.unexpectedReply, "EXEC returned no results (the transaction was aborted)")
        }
        return results.map { value in
            if case .error(let error) = value { return .failure(error) }
            return .success(value)
        }
    }

    /// Runs a Lua script by its SHA-1, loading it first if the server does not know it.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = [],
                         logger: Logger? = nil) async throws -> RedisValue {
        try await evaluate(script, keys: keys, arguments: arguments, then: [], logger: logger).reply
    }

    /// Runs a Lua script by its SHA-1 and then `followUps` on the same connection, in the same
    /// write (one round trip), for example `WAIT 1 100` to learn how many replicas have the
    /// script's writes. On a cluster they all go to the node that serves the script's keys. The
    /// script's error reply is thrown; each follow-up's result is returned as it came. `WAIT` and
    /// `WAITAOF` are accepted here (they hold the pooled connection for up to their timeout);
    /// other commands the pool refuses are refused here too.
    public func evaluate(
        _ script: RedisScript, keys: [any RedisArgument] = [], arguments: [any RedisArgument] = [], then followUps: [RedisCommand],
        logger: Logger? = nil
    ) async throws -> (reply: RedisValue, followUps: [Result<RedisValue, RedisError>]) {
        let logger = logger ?? self.logger
        try checkShared(followUps.filter { !["WAIT", "WAITAOF"].contains($0.name) }, inTransaction: false)
        let evalsha = RedisCommand("EVALSHA", [script.sha1, keys.count] + keys + arguments)
        var replies = try await runUnit([evalsha] + followUps, inTransaction: false, logger: logger)
        if case .failure(let error) = replies[0], error.code == .server(.noScript) {
            logger.debug("script not cached on the server; loading it", metadata: ["sha1": "\(script.sha1)"])
            replies = try await runUnit([RedisCommand("SCRIPT", "LOAD", script.source), evalsha] + followUps, inTransaction: false, logger: logger)
            _ = try replies[0].get()
            replies.removeFirst()
        }
        return (try replies[0].get(), Array(replies.dropFirst()))
    }

    /// Runs `body` with a connection of its own, for commands the shared pool refuses: `SELECT`,
    /// `WATCH`/`MULTI`/`EXEC`, `SUBSCRIBE`, `MONITOR`, `CLIENT REPLY`, blocking commands...
    ///
    /// The connection is opened for this call (on its first command) beyond the pool's
    /// `pool.size`, with its own I/O thread, and closed when `body` returns or throws: it is never
    /// returned to the pool, so no state it was given (database, subscriptions, a half-done
    /// transaction) reaches another caller. It takes no pool slot, so a `BLPOP` here never holds
    /// up pooled callers; each concurrent call costs one more server connection and thread.
    /// ``shutdown()`` closes dedicated connections still open, and so does cancelling the task
    /// (a blocking read on it ends at once). It never reconnects: after an error or a timeout
    /// on it, later calls on it fail with `.connectionClosed`.
    ///
    /// ```swift
    /// let job = try await client.withDedicatedConnection(blockingCommandTimeout: .seconds(40)) { connection in
    ///     try await connection.send("SELECT", 3)
    ///     return try await connection.send("BLPOP", "jobs", 30)   // null after 30 s with no job
    /// }
    /// ```
    ///
    /// `blockingCommandTimeout` bounds each blocking command (and `receive()`) on the connection;
    /// `nil` allows a blocking command its own block time plus `commandTimeout`. It must be more
    /// than zero.
    ///
    /// On a cluster the connection goes to the primary that serves `routingKey`'s slot (any
    /// primary without one); with Sentinel, to the primary. Elsewhere `routingKey` is ignored.
    public func withDedicatedConnection<R: Sendable>(
        blockingCommandTimeout: Duration? = nil,
        routingKey: (any RedisArgument)? = nil,
        _ body: (RedisDedicatedConnection) async throws -> R
    ) async throws -> R {
        if let blockingCommandTimeout, blockingCommandTimeout <= .zero {
            throw RedisError(.invalidConfiguration, "blockingCommandTimeout \(blockingCommandTimeout) is not more than zero (nil means the command's own block time)")
        }
        let blockingTimeout = blockingCommandTimeout.map { min($0, RedisConfiguration.maximumTimeout) }
        let lend = { (connection: RedisConnection) in
            try await body(RedisDedicatedConnection(connection: connection, commandTimeout: self.commandTimeout, blockingCommandTimeout: blockingTimeout))
        }
        switch try backend.get() {
        case .node(let pool): return try await pool.withDedicatedConnection(lend)
        case .routed(let router): return try await router.withDedicatedConnection(routingKey: routingKey?.redisBytes, lend)
        }
    }

    /// Throws `.requiresDedicatedConnection` for a command that must not run on a shared connection.
    private func checkShared(_ commands: [RedisCommand], inTransaction: Bool) throws(RedisError) {
        for command in commands {
            guard let hazard = SharedConnectionContract.hazard(of: command.arguments) else { continue }
            if inTransaction, hazard == .blocking { continue }
            throw SharedConnectionContract.refusal(command.arguments, hazard: hazard, inTransaction: inTransaction)
        }
    }

    /// Sends the commands, each on its own (on a cluster, each to the node of its key).
    private func run(_ commands: [RedisCommand], logger: Logger) async throws -> [Result<RedisValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        try checkNonEmpty(commands)
        // The whole call, from waiting for a slot to the last reply, fits in the command timeout.
        let deadline = commandTimeout.map { ContinuousClock.now + $0 }
        let backend = try backend.get()
        return try await instruments.observe(commands, inTransaction: false, logger: logger) {
            switch backend {
            case .node(let pool):
                let answer = try await pool.execute(commands, deadline: deadline)
                return (answer.connection, answer.replies)
            case .routed(let router):
                return (nil, try await router.run(commands.map { [$0] }, deadline: deadline).flatMap { $0 })
            }
        }
    }

    /// Sends commands that must run together: on one connection, in order, in one write.
    private func runUnit(_ unit: [RedisCommand], inTransaction: Bool, logger: Logger) async throws -> [Result<RedisValue, RedisError>] {
        try checkNonEmpty(unit)
        let deadline = commandTimeout.map { ContinuousClock.now + $0 }
        let backend = try backend.get()
        return try await instruments.observe(unit, inTransaction: inTransaction, logger: logger) {
            switch backend {
            case .node(let pool):
                let answer = try await pool.execute(unit, deadline: deadline)
                return (answer.connection, answer.replies)
            case .routed(let router):
                return (nil, try await router.run([unit], deadline: deadline)[0])
            }
        }
    }

    private func checkNonEmpty(_ commands: [RedisCommand]) throws(RedisError) {
        if let empty = commands.first(where: { $0.arguments.isEmpty }) {
            throw RedisError(.invalidCommand, "a command needs at least a name (got \(empty.arguments.count) arguments)")
        }
    }

    /// The pools of every primary: the one server, the cluster's primaries, or the Sentinel primary.
    func primaryPools() async throws -> [ConnectionPool] {
        switch try backend.get() {
        case .node(let pool): return [pool]
        case .routed(let router): return try await router.primaryPools(deadline: commandTimeout.map { ContinuousClock.now + $0 })
        }
    }

    /// Sends one command to the node behind `pool` (no routing), within the command timeout.
    func send(_ command: RedisCommand, on pool: ConnectionPool) async throws -> RedisValue {
        let deadline = commandTimeout.map { ContinuousClock.now + $0 }
        return try await pool.execute([command], deadline: deadline).replies[0].get()
    }

    /// The cluster router, for tests and benchmarks that read its statistics.
    var clusterRouter: ClusterRouter? {
        if case .success(.routed(let router)) = backend { return router as? ClusterRouter }
        return nil
    }

    /// The Sentinel router, likewise.
    var sentinelRouter: SentinelRouter? {
        if case .success(.routed(let router)) = backend { return router as? SentinelRouter }
        return nil
    }

    /// The single server's pool (for tests that watch its queues); fails for a cluster or Sentinel.
    var pool: Result<ConnectionPool, RedisError> {
        backend.flatMap { backend in
            guard case .node(let pool) = backend else { return .failure(RedisError(.invalidConfiguration, "not a single-server client")) }
            return .success(pool)
        }
    }

    /// Closes every connection (dedicated ones too) and refuses new requests, promptly even when
    /// a server does not answer: a request not yet sent fails with `.shutdown`, and one waiting
    /// for its reply fails with `.shutdown` as well (it may have run). Call it once your own work
    /// is done.
    public func shutdown() async {
        switch backend {
        case .success(.node(let pool)): await pool.shutdown()
        case .success(.routed(let router)): await router.shutdown()
        case .failure: break
        }
        logger.debug("redis client shut down")
    }
}

/// Where a client's commands go.
enum Backend: Sendable {
    /// One server's pool.
    case node(ConnectionPool)
    /// A cluster or a Sentinel-managed primary.
    case routed(any CommandRouter)

    init(configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider?, logger: Logger, metrics: ClientMetrics) {
        switch configuration.topology {
        case .standalone:
            self = .node(ConnectionPool(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, metrics: metrics))
        case .cluster(let cluster):
            self = .routed(ClusterRouter(configuration: configuration, cluster: cluster, credentialsProvider: credentialsProvider, logger: logger, metrics: metrics))
        case .sentinel(let sentinel):
            self = .routed(SentinelRouter(configuration: configuration, sentinel: sentinel, credentialsProvider: credentialsProvider, logger: logger, metrics: metrics))
        }
    }
}
