/// A connection of one caller's own, lent by ``RedisClient/withDedicatedConnection(blockingCommandTimeout:_:)``,
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
public final class RedisDedicatedConnection: Sendable {
    let connection: RedisConnection

    init(connection: RedisConnection) {
        self.connection = connection
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
        return try await connection.execute(commands)
    }

    /// Waits for the next reply the server sends without a request: a message on a subscribed
    /// channel, a line of `MONITOR`, or the further confirmations of a multi-channel `SUBSCRIBE`.
    /// A pushed error reply is thrown.
    public func receive() async throws -> RedisValue {
        try await connection.execute([])[0].get()
    }
}
