import Logging

/// A shared, thread-safe Redis client with a bounded connection pool and an async API.
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
/// ``withDedicatedConnection(blockingCommandTimeout:_:)``.
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
    /// The pool, or why the configuration was refused (internal so tests can watch its queues).
    let pool: Result<ConnectionPool, RedisError>
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
            pool = .success(ConnectionPool(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, metrics: instruments.metrics))
            logger.debug("redis client created", metadata: ["redis": "\(configuration)"])
        } catch {
            pool = .failure(error)
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
    /// it inside ``withDedicatedConnection(blockingCommandTimeout:_:)``.
    public func pipeline(_ commands: [RedisCommand], logger: Logger? = nil) async throws -> [Result<RedisValue, RedisError>] {
        try checkShared(commands, inTransaction: false)
        return try await run(commands, inTransaction: false, logger: logger ?? self.logger)
    }

    /// Runs the commands atomically inside `MULTI`/`EXEC`, in one round trip, and returns the
    /// result of each command. A command the server refuses to queue aborts the whole transaction.
    /// Commands that change the connection's state (`SELECT`, `MULTI`, `WATCH`...) are refused
    /// with `.requiresDedicatedConnection` before anything is sent; blocking commands are allowed
    /// (inside a transaction they do not block). For `WATCH`, use a dedicated connection.
    public func transaction(_ commands: [RedisCommand], logger: Logger? = nil) async throws -> [Result<RedisValue, RedisError>] {
        try checkShared(commands, inTransaction: true)
        let replies = try await run([RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")], inTransaction: true, logger: logger ?? self.logger)
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
        let evalsha = RedisCommand("EVALSHA", [script.sha1, keys.count] + keys + arguments)
        do {
            return try await send(evalsha, logger: logger)
        } catch let error as RedisError where error.code == .server(.noScript) {
            (logger ?? self.logger).debug("script not cached on the server; loading it", metadata: ["sha1": "\(script.sha1)"])
            let replies = try await pipeline([RedisCommand("SCRIPT", "LOAD", script.source), evalsha], logger: logger)
            _ = try replies[0].get()
            return try replies[1].get()
        }
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
    public func withDedicatedConnection<R: Sendable>(
        blockingCommandTimeout: Duration? = nil,
        _ body: (RedisDedicatedConnection) async throws -> R
    ) async throws -> R {
        if let blockingCommandTimeout, blockingCommandTimeout <= .zero {
            throw RedisError(.invalidConfiguration, "blockingCommandTimeout \(blockingCommandTimeout) is not more than zero (nil means the command's own block time)")
        }
        let blockingTimeout = blockingCommandTimeout.map { min($0, RedisConfiguration.maximumTimeout) }
        return try await pool.get().withDedicatedConnection { connection in
            try await body(RedisDedicatedConnection(connection: connection, commandTimeout: commandTimeout, blockingCommandTimeout: blockingTimeout))
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

    /// Sends the commands on a pooled connection.
    private func run(_ commands: [RedisCommand], inTransaction: Bool, logger: Logger) async throws -> [Result<RedisValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        if let empty = commands.first(where: { $0.arguments.isEmpty }) {
            throw RedisError(.invalidCommand, "a command needs at least a name (got \(empty.arguments.count) arguments)")
        }
        // The whole call, from waiting for a slot to the last reply, fits in the command timeout.
        let deadline = commandTimeout.map { ContinuousClock.now + $0 }
        return try await instruments.observe(commands, inTransaction: inTransaction, logger: logger) {
            try await pool.get().withConnection(deadline: deadline) { connection in
                (connection.id, try await connection.execute(commands, deadline: deadline))
            }
        }
    }

    /// Closes every connection (dedicated ones too) and refuses new requests, promptly even when
    /// a server does not answer: a request not yet sent fails with `.shutdown`, and one waiting
    /// for its reply fails with `.shutdown` as well (it may have run). Call it once your own work
    /// is done.
    public func shutdown() async {
        if case .success(let pool) = pool { await pool.shutdown() }
        logger.debug("redis client shut down")
    }
}
