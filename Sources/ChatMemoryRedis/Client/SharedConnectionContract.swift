/// Which commands may run on the shared pool.
///
/// A pooled connection serves many callers one after another (and pipelines them), so a command
/// that changes or holds the connection's state would leak into the next caller's commands:
/// `SELECT` would switch their database, `SUBSCRIBE` would swallow their replies, `BLPOP` would
/// hold everyone queued behind it. Such commands are refused before anything is sent; they run on
/// a connection of the caller's own (``RedisClient/withDedicatedConnection(blockingCommandTimeout:routingKey:_:)``).
enum SharedConnectionContract {
    /// Why a command changes or holds a connection.
    enum Hazard {
        /// It changes what later commands on the connection see or receive.
        case state
        /// It may block the connection until the server has something to answer.
        case blocking
    }

    /// The hazard `command` brings to a shared connection, or `nil` when it is safe there.
    /// Allocates and retains nothing for an ordinary command (see ``CommandTable/info(of:)``).
    static func hazard(of arguments: [[UInt8]]) -> Hazard? {
        guard let info = CommandTable.info(of: arguments) else { return nil }
        switch info.sharedUse {
        case .safe:
            return nil
        case .changesState:
            return .state
        case .changesStateWithSubcommands(let subcommands):
            guard arguments.count > 1 else { return nil }
            return subcommands.contains { ASCII.equalsIgnoringCase(arguments[1], $0) } ? .state : nil
        case .blocks:
            return .blocking
        case .blocksWithBlockOption:
            return hasBlockOption(arguments) ? .blocking : nil
        }
    }

    /// How long a blocking command asks the server to wait, from its own arguments (where the
    /// table says: `BLPOP k 5`, `BLMPOP 5 1 k LEFT`, `WAIT 1 250`, `XREAD BLOCK 250 STREAMS k $`).
    /// `nil` when it waits forever (0), the time is unreadable, or the command does not block.
    static func blockTime(of arguments: [[UInt8]]) -> Duration? {
        guard let info = CommandTable.info(of: arguments) else { return nil }
        func number(_ bytes: [UInt8]?) -> Double? {
            guard let bytes, let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite, value > 0 else { return nil }
            return value
        }
        let seconds: Double?
        switch info.sharedUse {
        case .blocks(.lastInSeconds):
            seconds = number(arguments.last)
        case .blocks(.firstInSeconds):
            seconds = number(arguments.count > 1 ? arguments[1] : nil)
        case .blocks(.lastInMilliseconds):
            seconds = number(arguments.last).map { $0 / 1000 }
        case .blocksWithBlockOption:
            let index = arguments.firstIndex { ASCII.equalsIgnoringCase($0, ASCII.block) }
            seconds = index.flatMap { $0 + 1 < arguments.count ? number(arguments[$0 + 1]) : nil }.map { $0 / 1000 }
        case .safe, .changesState, .changesStateWithSubcommands:
            return nil
        }
        // Beyond the longest timeout the system takes, it is as good as forever.
        guard let seconds, seconds < RedisConfiguration.maximumTimeout / .seconds(1) else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// The error a refused command is thrown with: it names the command and what to use instead.
    static func refusal(_ arguments: [[UInt8]], hazard: Hazard, inTransaction: Bool = false) -> RedisError {
        let name = commandName(arguments)
        let why: String
        switch hazard {
        case .state:
            why = "it changes the connection's state, which would leak into other callers' commands"
        case .blocking:
            why = "it can block the connection, holding up every caller queued behind it"
        }
        let place = inTransaction ? "inside transaction() on the shared pool" : "on the shared pool"
        var instead = "run it on a connection of your own: client.withDedicatedConnection { connection in try await connection.send(...) }"
        if !inTransaction, ["MULTI", "EXEC", "DISCARD"].contains(name) {
            instead = "use client.transaction([...]) for MULTI/EXEC, or " + instead
        }
        return RedisError(.requiresDedicatedConnection, "\(name) is refused \(place) (nothing was sent): \(why); \(instead)")
    }

    /// The command name, with the subcommand for commands refused by subcommand (`CLIENT REPLY`).
    private static func commandName(_ arguments: [[UInt8]]) -> String {
        let name = RedisCommand(arguments: arguments).name
        guard name == "CLIENT", arguments.count > 1 else { return name }
        return name + " " + String(decoding: arguments[1], as: UTF8.self).uppercased()
    }

    /// True when an `XREAD`/`XREADGROUP` has `BLOCK` among its options (before `STREAMS`, after
    /// which come key names and ids that may spell anything).
    private static func hasBlockOption(_ arguments: [[UInt8]]) -> Bool {
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if ASCII.equalsIgnoringCase(argument, ASCII.streams) { return false }
            if ASCII.equalsIgnoringCase(argument, ASCII.block) { return true }
            // Skip option values, which may spell BLOCK or STREAMS: GROUP <group> <consumer>, COUNT <n>.
            if ASCII.equalsIgnoringCase(argument, ASCII.group) { index += 3; continue }
            if ASCII.equalsIgnoringCase(argument, ASCII.count) { index += 2; continue }
            index += 1
        }
        return false
    }
}
