/// Which arguments of a command are keys, for routing it in a Redis Cluster.
///
/// Known commands are looked up by name; any other command is taken to have its key at
/// argument 1 (most data commands do). A wrong guess costs a `MOVED` redirect, never a wrong
/// answer: the server checks every key itself.
enum CommandKeys {
    /// The keys of `arguments` (the name first); empty for a command without keys.
    static func keys(of arguments: [[UInt8]]) -> [[UInt8]] {
        guard let first = arguments.first else { return [] }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        let count = arguments.count
        func at(_ positions: some Sequence<Int>) -> [[UInt8]] {
            positions.compactMap { $0 < count ? arguments[$0] : nil }
        }
        /// Keys counted by a `numkeys` argument at `index`, following it.
        func counted(at index: Int) -> [[UInt8]] {
            guard index < count, let number = Int(String(decoding: arguments[index], as: UTF8.self)), number > 0 else { return [] }
            // `number` may be up to Int.max: compare it with what is left, never add it.
            return at((index + 1)..<(index + 1 + min(number, count - index - 1)))
        }
        switch name {
        case _ where keyless.contains(name):
            return []
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF",
             "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "PFCOUNT", "PFMERGE":
            return at(1..<count)
        case "MSET", "MSETNX":
            return at(stride(from: 1, to: count, by: 2))
        case "RENAME", "RENAMENX", "RPOPLPUSH", "BRPOPLPUSH", "LMOVE", "BLMOVE", "SMOVE", "COPY",
             "GEOSEARCHSTORE", "ZRANGESTORE":
            return at(1..<3)
        case "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX":
            return at(1..<max(1, count - 1))
        case "BITOP":
            return at(2..<max(2, count))
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            return counted(at: 2)
        case "LMPOP", "ZMPOP", "SINTERCARD", "ZINTERCARD", "ZUNION", "ZINTER", "ZDIFF":
            return counted(at: 1)
        case "BLMPOP", "BZMPOP":
            return counted(at: 2)
        case "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE":
            return at(1..<2) + counted(at: 2)
        case "XREAD", "XREADGROUP":
            // XREADGROUP's group and consumer (arguments 2 and 3) may be named "streams" too.
            let optionsStart = name == "XREADGROUP" ? 4 : 1
            guard optionsStart < count,
                  let streams = arguments[optionsStart...].firstIndex(where: { String(decoding: $0, as: UTF8.self).uppercased() == "STREAMS" }) else { return [] }
            let rest = count - streams - 1
            return at((streams + 1)..<(streams + 1 + rest / 2))
        case "OBJECT", "XINFO", "XGROUP":
            return at(2..<3)
        case "MEMORY":
            return count > 1 && String(decoding: arguments[1], as: UTF8.self).uppercased() == "USAGE" ? at(2..<3) : []
        default:
            return at(1..<2)
        }
    }

    /// Commands without keys: they go to any primary.
    static let keyless: Set<String> = [
        "PING", "ECHO", "INFO", "TIME", "DBSIZE", "SCRIPT", "FUNCTION", "CLUSTER", "COMMAND", "CONFIG",
        "CLIENT", "ACL", "FLUSHALL", "FLUSHDB", "RANDOMKEY", "SCAN", "KEYS", "WAIT", "WAITAOF",
        "PUBLISH", "AUTH", "HELLO", "SELECT", "READONLY", "READWRITE", "ASKING", "QUIT", "RESET",
        "LASTSAVE", "SAVE", "BGSAVE", "BGREWRITEAOF", "ROLE", "SLOWLOG", "LATENCY", "DEBUG",
        "MULTI", "EXEC", "DISCARD", "UNWATCH", "LOLWUT", "SWAPDB", "MODULE", "REPLICAOF", "SLAVEOF",
        "FAILOVER", "SHUTDOWN", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE",
        "PUBSUB", "SYNC", "PSYNC",
    ]

    /// Commands that only read, so trying one again after a lost connection cannot change data.
    static let readOnly: Set<String> = [
        "GET", "MGET", "STRLEN", "GETRANGE", "EXISTS", "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME",
        "LRANGE", "LLEN", "LINDEX", "LPOS", "HGET", "HMGET", "HGETALL", "HLEN", "HEXISTS", "HKEYS", "HVALS",
        "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "ZRANGE", "ZSCORE", "ZCARD", "ZRANK", "ZCOUNT",
        "SCAN", "SSCAN", "HSCAN", "ZSCAN", "DBSIZE", "PING", "ECHO", "TIME", "INFO", "ROLE",
        "XRANGE", "XREVRANGE", "XLEN", "PFCOUNT", "BITCOUNT", "GETBIT", "OBJECT", "MEMORY",
        "EVAL_RO", "EVALSHA_RO", "FCALL_RO", "CLUSTER",
    ]

    /// Whether every command of a unit only reads.
    static func onlyReads(_ commands: [RedisCommand]) -> Bool {
        commands.allSatisfy { readOnly.contains($0.name) }
    }
}
