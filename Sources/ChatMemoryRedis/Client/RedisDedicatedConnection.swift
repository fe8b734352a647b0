/// A connection of one caller's own, lent by ``RedisClient/withDedicatedConnection(blockingCommandTimeout:routingKey:_:)``,
/// for the commands the shared pool refuses: `SELECT`, `WATCH`/`MULTI`/`EXEC`, `SUBSCRIBE`,
/// `MONITOR`, `CLIENT REPLY`, blocking commands (`BLPOP`, `XREAD ... BLOCK`, `WAIT`...).
///
/// Everything sent here runs on this one connection, in order, so the state a command sets
/// (database, subscriptions, a transaction) holds for the next command. The connection is opened
/// on first use and never reconnects: if it is lost, every later call throws `.connectionClosed`
/// instead of silently running on a fresh connection without that state.
///
/// ```swift
/// try await client.withDedicatedConnection { connection in
///     try await connection.send("SUBSCRIBE", "news")     // the confirmation
///     let message = try await connection.receive()        // ["message", "news", payload]
/// }
/// ```
///
/// Timeouts: an ordinary command gets the client's `commandTimeout`. A blocking command (and
/// ``receive()``) gets the `blockingCommandTimeout` given to `withDedicatedConnection`, or, when
/// that is `nil`, its own block time plus `commandTimeout` (`BLPOP key 5` with a 2 s
/// `commandTimeout` may take 7 s); one that blocks forever (`BLPOP key 0`), or ``receive()``,
/// then waits without a limit (TCP keepalive still notices a server that vanished). The first
/// call's time also covers opening the connection.
public final class RedisDedicatedConnection: Sendable {
    let connection: RedisConnection
    private let commandTimeout: Duration?
    private let blockingCommandTimeout: Duration?

    init(connection: RedisConnection, commandTimeout: Duration?, blockingCommandTimeout: Duration?) {
        self.connection = connection
        self.commandTimeout = commandTimeout
        self.blockingCommandTimeout = blockingCommandTimeout
    }

    /// How long a call with these commands may take (`nil`: without a limit), counted from when it
    /// is made: the first call also opens the connection within it.
    static func timeout(for commands: [RedisCommand], commandTimeout: Duration?, blockingCommandTimeout: Duration?) -> Duration? {
        var timeout = commandTimeout
        for command in commands where SharedConnectionContract.hazard(of: command.arguments) == .blocking {
            if let blockingCommandTimeout {
                timeout = blockingCommandTimeout
            } else if let commandTimeout, let blockTime = SharedConnectionContract.blockTime(of: command.arguments) {
                timeout = min(commandTimeout + blockTime, RedisConfiguration.maximumTimeout)
            } else {
                return nil
            }
        }
        return timeout
    }

    /// Sends one command and reads one reply; an error reply is thrown. A command that answers
    /// more than once (`SUBSCRIBE` to several channels) leaves the other replies for ``receive()``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisValue {
        try await pipeline([command])[0].get()
    }

    /// Sends one command given by name and arguments.
    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgument...) async throws -> RedisValue {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends many commands in one write and reads one reply per command, in order.
    public func pipeline(_ commands: [RedisCommand]) async throws -> [Result<RedisValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        if let empty = commands.first(where: { $0.arguments.isEmpty }) {
            throw RedisError(.invalidCommand, "a command needs at least a name (got \(empty.arguments.count) arguments)")
        }
        let timeout = Self.timeout(for: commands, commandTimeout: commandTimeout, blockingCommandTimeout: blockingCommandTimeout)
        return try await connection.execute(commands, deadline: timeout.map { ContinuousClock.now + $0 })
    }

    /// Waits for the next reply the server sends without a request: a message on a subscribed
    /// channel, a line of `MONITOR`, or the further confirmations of a multi-channel `SUBSCRIBE`.
    /// A pushed error reply is thrown.
    public func receive() async throws -> RedisValue {
        try await connection.execute([], deadline: blockingCommandTimeout.map { ContinuousClock.now + $0 })[0].get()
    }
}
