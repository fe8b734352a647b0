/// Everything the client knows about a command, in one row per command name: which arguments are
/// its keys (for cluster routing), whether it only reads (safe to send again after a lost
/// connection), and whether it may run on a shared, pipelined connection.
///
/// A command that is not in the table is routed by its argument 1, never sent again after a lost
/// connection, allowed on the shared pool, and counted in metrics as `OTHER`.
struct CommandInfo: Sendable {
    /// The upper-case name, as metrics and spans show it.
    let name: String
    /// Which arguments are keys.
    let keys: KeyPositions
    /// True when the command never changes data.
    let readOnly: Bool
    /// When the command is refused on a shared connection.
    let sharedUse: SharedUse

    /// Where a command's keys are among its arguments (the name is argument 0).
    enum KeyPositions: Sendable, Equatable {
        /// No keys: the command goes to any primary.
        case none
        /// Argument 1 only.
        case first
        /// Arguments 1 and 2 (`RENAME src dst`).
        case firstTwo
        /// Argument 2 only (`OBJECT ENCODING key`).
        case second
        /// Every argument (`DEL k1 k2`).
        case all
        /// Every argument from 2 on (`BITOP AND dest k1 k2`).
        case allFromSecond
        /// Every argument but the last (`BLPOP k1 k2 timeout`).
        case allButLast
        /// Every other argument from 1 (`MSET k1 v1 k2 v2`).
        case alternate
        /// As many keys as a `numkeys` argument at this index says, following it (`EVAL s 2 k1 k2`).
        case counted(at: Int)
        /// Argument 1, then keys counted at argument 2 (`ZUNIONSTORE dest 2 k1 k2`).
        case firstAndCounted
        /// The first half of what follows `STREAMS`; options start at this index.
        case streams(optionsStart: Int)
        /// Argument 2 when argument 1 is `USAGE` (`MEMORY USAGE key`).
        case memoryUsage
    }

    /// When a command is refused on a shared connection, and why.
    enum SharedUse: Sendable, Equatable {
        /// Allowed.
        case safe
        /// Always refused: it changes what later commands on the connection see or receive.
        case changesState
        /// Refused with one of these subcommands (upper case): `CLIENT REPLY`.
        case changesStateWithSubcommands([[UInt8]])
        /// Always refused: it may hold the connection until the server has something to answer.
        case blocks(BlockTime)
        /// Refused as blocking when a `BLOCK <milliseconds>` option comes before `STREAMS` (`XREAD`).
        case blocksWithBlockOption
    }

    /// Which argument of a blocking command says how long it may block.
    enum BlockTime: Sendable, Equatable {
        /// The last, in seconds (`BLPOP k 5`).
        case lastInSeconds
        /// Argument 1, in seconds (`BLMPOP 5 1 k LEFT`).
        case firstInSeconds
        /// The last, in milliseconds (`WAIT 1 250`).
        case lastInMilliseconds
    }
}

/// The table of ``CommandInfo`` rows, looked up by name in any letter case.
enum CommandTable {
    /// The row for the command `arguments` starts with, or `nil` for an unknown command. Allocates
    /// nothing: the name, folded to upper case, is packed into two integers.
    static func info(of arguments: [[UInt8]]) -> CommandInfo? {
        guard let name = arguments.first, let packed = PackedName(name) else { return nil }
        return rows[packed]
    }

    /// Whether every command only reads, so that sending them again after a lost connection
    /// cannot change data. An unknown command may write.
    static func onlyReads(_ commands: [RedisCommand]) -> Bool {
        commands.allSatisfy { info(of: $0.arguments)?.readOnly ?? false }
    }

    /// Every row, by its packed name.
    static let rows: [PackedName: CommandInfo] = {
        var rows: [PackedName: CommandInfo] = [:]
        func add(_ names: [String], keys: CommandInfo.KeyPositions = .first, readOnly: Bool = false, shared: CommandInfo.SharedUse = .safe) {
            for name in names {
                // Every name here is 1 to 16 ASCII bytes (a unit test checks that none is lost).
                guard let packed = PackedName(Array(name.utf8)) else { continue }
                rows[packed] = CommandInfo(name: name, keys: keys, readOnly: readOnly, sharedUse: shared)
            }
        }
        // Server, connection and pub/sub commands: no keys.
        add(["PING", "ECHO", "INFO", "TIME", "DBSIZE", "ROLE", "CLUSTER", "SCAN", "KEYS", "RANDOMKEY", "LASTSAVE", "COMMAND"],
            keys: .none, readOnly: true)
        add(["SCRIPT", "FUNCTION", "CONFIG", "ACL", "FLUSHALL", "FLUSHDB", "PUBLISH", "SAVE", "BGSAVE", "BGREWRITEAOF",
             "SLOWLOG", "LATENCY", "DEBUG", "LOLWUT", "SWAPDB", "MODULE", "REPLICAOF", "SLAVEOF", "FAILOVER", "SHUTDOWN",
             "PUBSUB"],
            keys: .none)
        add(["CLIENT"], keys: .none,
            shared: .changesStateWithSubcommands(["REPLY", "TRACKING", "CACHING", "SETNAME", "SETINFO", "NO-EVICT", "NO-TOUCH"].map { Array($0.utf8) }))
        add(["AUTH", "HELLO", "SELECT", "READONLY", "READWRITE", "ASKING", "QUIT", "RESET", "MULTI", "EXEC", "DISCARD",
             "UNWATCH", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SYNC", "PSYNC"],
            keys: .none, shared: .changesState)
        add(["SSUBSCRIBE", "SUNSUBSCRIBE"], shared: .changesState)
        add(["WATCH"], keys: .all, shared: .changesState)
        add(["WAIT", "WAITAOF"], keys: .none, shared: .blocks(.lastInMilliseconds))

        // Strings and keys.
        add(["GET", "STRLEN", "GETRANGE", "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "GETBIT", "BITCOUNT"], readOnly: true)
        add(["EXISTS", "MGET"], keys: .all, readOnly: true)
        add(["SET", "SETEX", "PSETEX", "SETNX", "SETRANGE", "GETSET", "GETDEL", "GETEX", "APPEND", "INCR", "INCRBY",
             "INCRBYFLOAT", "DECR", "DECRBY", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST"])
        add(["DEL", "UNLINK", "TOUCH"], keys: .all)
        add(["MSET", "MSETNX"], keys: .alternate)
        add(["RENAME", "RENAMENX", "COPY"], keys: .firstTwo)
        add(["BITOP"], keys: .allFromSecond)
        add(["OBJECT"], keys: .second, readOnly: true)
        add(["MEMORY"], keys: .memoryUsage, readOnly: true)

        // Lists.
        add(["LRANGE", "LLEN", "LINDEX", "LPOS"], readOnly: true)
        add(["LPUSH", "LPUSHX", "RPUSH", "RPUSHX", "LPOP", "RPOP", "LINSERT", "LREM", "LSET", "LTRIM"])
        add(["RPOPLPUSH", "LMOVE"], keys: .firstTwo)
        add(["LMPOP"], keys: .counted(at: 1))
        add(["BLPOP", "BRPOP"], keys: .allButLast, shared: .blocks(.lastInSeconds))
        add(["BRPOPLPUSH", "BLMOVE"], keys: .firstTwo, shared: .blocks(.lastInSeconds))
        add(["BLMPOP"], keys: .counted(at: 2), shared: .blocks(.firstInSeconds))

        // Hashes.
        add(["HGET", "HMGET", "HGETALL", "HLEN", "HEXISTS", "HKEYS", "HVALS", "HSTRLEN", "HSCAN"], readOnly: true)
        add(["HSET", "HSETNX", "HMSET", "HDEL", "HINCRBY", "HINCRBYFLOAT"])

        // Sets.
        add(["SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SRANDMEMBER", "SSCAN"], readOnly: true)
        add(["SINTER", "SUNION", "SDIFF"], keys: .all, readOnly: true)
        add(["SADD", "SREM", "SPOP"])
        add(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"], keys: .all)
        add(["SMOVE"], keys: .firstTwo)
        add(["SINTERCARD"], keys: .counted(at: 1), readOnly: true)

        // Sorted sets.
        add(["ZRANGE", "ZRANGEBYSCORE", "ZREVRANGE", "ZSCORE", "ZCARD", "ZRANK", "ZREVRANK", "ZCOUNT", "ZSCAN"], readOnly: true)
        add(["ZADD", "ZINCRBY", "ZREM", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE", "ZPOPMIN", "ZPOPMAX"])
        add(["ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"], keys: .counted(at: 1), readOnly: true)
        add(["ZMPOP"], keys: .counted(at: 1))
        add(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"], keys: .firstAndCounted)
        add(["ZRANGESTORE", "GEOSEARCHSTORE"], keys: .firstTwo)
        add(["BZPOPMIN", "BZPOPMAX"], keys: .allButLast, shared: .blocks(.lastInSeconds))
        add(["BZMPOP"], keys: .counted(at: 2), shared: .blocks(.firstInSeconds))

        // HyperLogLog.
        add(["PFCOUNT"], keys: .all, readOnly: true)
        add(["PFADD"])
        add(["PFMERGE"], keys: .all)

        // Streams.
        add(["XRANGE", "XREVRANGE", "XLEN", "XPENDING"], readOnly: true)
        add(["XADD", "XACK", "XDEL", "XTRIM", "XCLAIM", "XAUTOCLAIM"])
        add(["XINFO"], keys: .second, readOnly: true)
        add(["XGROUP"], keys: .second)
        add(["XREAD"], keys: .streams(optionsStart: 1), readOnly: true, shared: .blocksWithBlockOption)
        // XREADGROUP's group and consumer (arguments 2 and 3) may be named "streams" too.
        add(["XREADGROUP"], keys: .streams(optionsStart: 4), shared: .blocksWithBlockOption)

        // Scripts and functions.
        add(["EVAL", "EVALSHA", "FCALL"], keys: .counted(at: 2))
        add(["EVAL_RO", "EVALSHA_RO", "FCALL_RO"], keys: .counted(at: 2), readOnly: true)
        return rows
    }()
}

/// A command name of 1 to 16 bytes, folded to upper case, as two integers.
struct PackedName: Hashable, Sendable {
    private var high: UInt64 = 0
    private var low: UInt64 = 0

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

/// Byte-level word matching for command arguments, which may be any bytes.
enum ASCII {
    static let block = Array("BLOCK".utf8)
    static let streams = Array("STREAMS".utf8)
    static let group = Array("GROUP".utf8)
    static let count = Array("COUNT".utf8)
    static let usage = Array("USAGE".utf8)

    /// ASCII case-insensitive equality against an upper-case word.
    static func equalsIgnoringCase(_ bytes: [UInt8], _ upper: [UInt8]) -> Bool {
        guard bytes.count == upper.count else { return false }
        for index in bytes.indices {
            let byte = bytes[index]
            let folded = byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte
            if folded != upper[index] { return false }
        }
        return true
    }
}
