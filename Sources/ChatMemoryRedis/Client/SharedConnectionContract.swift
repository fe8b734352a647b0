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
    /// Allocates and retains nothing for an ordinary command: the name, folded to upper case, is
    /// packed into two integers and compared with the table's.
    static func hazard(of arguments: [[UInt8]]) -> Hazard? {
        guard let name = arguments.first, let key = PackedName(name), let index = names.firstIndex(of: key) else { return nil }
        switch rules[index] {
        case .always(let hazard):
            return hazard
        case .subcommands(let subcommands, let hazard):
            guard arguments.count > 1 else { return nil }
            return subcommands.contains { equalsIgnoringCase(arguments[1], $0) } ? hazard : nil
        case .blockOption:
            return hasBlockOption(arguments) ? .blocking : nil
        }
    }

    /// A command name of 1 to 16 bytes, folded to upper case, as two integers.
    private struct PackedName: Equatable {
        var high: UInt64 = 0
        var low: UInt64 = 0

        init?(_ bytes: [UInt8]) {
            guard !bytes.isEmpty, bytes.count <= 16 else { return nil }
            for (index, byte) in bytes.enumerated() {
                let folded = UInt64(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
                if index < 8 { high |= folded << (8 * UInt64(index)) } else { low |= folded << (8 * UInt64(index - 8)) }
            }
            // The length too, so that a trailing NUL byte never matches a shorter name.
            low |= UInt64(bytes.count) << 56
        }
    }

    /// How long a blocking command asks the server to wait, from its own arguments: the last
    /// argument in seconds (`BLPOP k 5`), the first for `BLMPOP`/`BZMPOP`, milliseconds for `WAIT`,
    /// `WAITAOF` and `XREAD ... BLOCK`. `nil` when it waits forever (0) or the time is unreadable.
    static func blockTime(of arguments: [[UInt8]]) -> Duration? {
        guard let name = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return nil }
        func number(_ bytes: [UInt8]?) -> Double? {
            guard let bytes, let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite, value > 0 else { return nil }
            return value
        }
        let seconds: Double?
        switch name {
        case "BLMPOP", "BZMPOP":
            seconds = number(arguments.count > 1 ? arguments[1] : nil)
        case "WAIT", "WAITAOF":
            seconds = number(arguments.last).map { $0 / 1000 }
        case "XREAD", "XREADGROUP":
            let index = arguments.firstIndex { equalsIgnoringCase($0, blockWord) }
            seconds = index.flatMap { $0 + 1 < arguments.count ? number(arguments[$0 + 1]) : nil }.map { $0 / 1000 }
        default:
            seconds = number(arguments.last)
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

    private enum Rule {
        case always(Hazard)
        /// Only with one of these subcommands (upper case).
        case subcommands([[UInt8]], Hazard)
        /// Only with a `BLOCK` option before `STREAMS` (`XREAD`, `XREADGROUP`).
        case blockOption
    }

    /// The refused names, and at the same index, when they are refused.
    private static let (names, rules): ([PackedName], [Rule]) = {
        let state = [
            "SELECT", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH",
            "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE",
            "MONITOR", "HELLO", "RESET", "AUTH", "QUIT", "READONLY", "READWRITE", "ASKING", "SYNC", "PSYNC",
        ]
        let blocking = [
            "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP", "WAIT", "WAITAOF",
        ]
        let clientSubcommands = ["REPLY", "TRACKING", "CACHING", "SETNAME", "SETINFO", "NO-EVICT", "NO-TOUCH"]
        var table: [(String, Rule)] = []
        table += state.map { ($0, .always(.state)) }
        table += blocking.map { ($0, .always(.blocking)) }
        table.append(("CLIENT", .subcommands(clientSubcommands.map { Array($0.utf8) }, .state)))
        table.append(("XREAD", .blockOption))
        table.append(("XREADGROUP", .blockOption))
        return (table.compactMap { PackedName(Array($0.0.utf8)) }, table.map(\.1))
    }()

    /// True when an `XREAD`/`XREADGROUP` has `BLOCK` among its options (before `STREAMS`, after
    /// which come key names and ids that may spell anything).
    private static func hasBlockOption(_ arguments: [[UInt8]]) -> Bool {
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if equalsIgnoringCase(argument, streamsWord) { return false }
            if equalsIgnoringCase(argument, blockWord) { return true }
            // Skip option values, which may spell BLOCK or STREAMS: GROUP <group> <consumer>, COUNT <n>.
            if equalsIgnoringCase(argument, groupWord) { index += 3; continue }
            if equalsIgnoringCase(argument, countWord) { index += 2; continue }
            index += 1
        }
        return false
    }

    private static let blockWord = Array("BLOCK".utf8)
    private static let streamsWord = Array("STREAMS".utf8)
    private static let groupWord = Array("GROUP".utf8)
    private static let countWord = Array("COUNT".utf8)

    /// ASCII case-insensitive equality against an upper-case word.
    private static func equalsIgnoringCase(_ bytes: [UInt8], _ upper: [UInt8]) -> Bool {
        guard bytes.count == upper.count else { return false }
        for index in bytes.indices {
            let byte = bytes[index]
            let folded = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            if folded != upper[index] { return false }
        }
        return true
    }
}
