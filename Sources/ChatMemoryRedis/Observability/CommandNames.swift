/// The names metrics and spans use for commands: a known command's upper-case name, else
/// `OTHER`, so that a dimension never holds more than this bounded set (never a key, never an
/// argument, never a caller's made-up name).
enum CommandNames {
    static let other = "OTHER"
    static let pipeline = "PIPELINE"
    static let transaction = "TRANSACTION"

    /// The commands a chat app or a cache commonly sends.
    static let known: Set<String> = [
        "APPEND", "AUTH", "BLMOVE", "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX", "CLIENT", "CONFIG", "COPY", "DBSIZE",
        "DECR", "DECRBY", "DEL", "DISCARD", "ECHO", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "EXEC", "EXISTS",
        "EXPIRE", "EXPIREAT", "FCALL", "FCALL_RO", "FLUSHALL", "FLUSHDB", "FUNCTION", "GET", "GETDEL", "GETEX",
        "GETRANGE", "GETSET", "HDEL", "HELLO", "HEXISTS", "HGET", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HKEYS",
        "HLEN", "HMGET", "HMSET", "HSCAN", "HSET", "HSETNX", "HVALS", "INCR", "INCRBY", "INCRBYFLOAT", "INFO",
        "KEYS", "LINDEX", "LINSERT", "LLEN", "LMOVE", "LPOP", "LPOS", "LPUSH", "LPUSHX", "LRANGE", "LREM", "LSET",
        "LTRIM", "MGET", "MONITOR", "MSET", "MSETNX", "MULTI", "OBJECT", "PERSIST", "PEXPIRE", "PEXPIREAT",
        "PFADD", "PFCOUNT", "PING", "PSETEX", "PSUBSCRIBE", "PTTL", "PUBLISH", "PUNSUBSCRIBE", "QUIT", "RENAME",
        "RENAMENX", "RPOP", "RPUSH", "RPUSHX", "SADD", "SCAN", "SCARD", "SCRIPT", "SELECT", "SET", "SETEX",
        "SETNX", "SETRANGE", "SINTER", "SISMEMBER", "SMEMBERS", "SMOVE", "SPOP", "SRANDMEMBER", "SREM", "SSCAN",
        "STRLEN", "SUBSCRIBE", "SUNION", "TIME", "TOUCH", "TTL", "TYPE", "UNLINK", "UNSUBSCRIBE", "UNWATCH",
        "WAIT", "WATCH", "XACK", "XADD", "XAUTOCLAIM", "XCLAIM", "XDEL", "XGROUP", "XINFO", "XLEN", "XPENDING",
        "XRANGE", "XREAD", "XREADGROUP", "XREVRANGE", "XTRIM", "ZADD", "ZCARD", "ZCOUNT", "ZINCRBY", "ZPOPMAX",
        "ZPOPMIN", "ZRANGE", "ZRANGEBYSCORE", "ZRANK", "ZREM", "ZREMRANGEBYRANK", "ZREMRANGEBYSCORE",
        "ZREVRANGE", "ZREVRANK", "ZSCAN", "ZSCORE",
    ]

    /// The longest known name, in bytes: a longer first argument is `OTHER` without a look-up.
    private static let longest = known.map(\.utf8.count).max() ?? 0

    /// The command's name if it is known (in any letter case), else `OTHER`.
    static func name(of command: RedisCommand) -> String {
        guard let first = command.arguments.first, !first.isEmpty, first.count <= longest else { return other }
        let upper = String(decoding: first.map { (0x61...0x7A).contains($0) ? $0 - 0x20 : $0 }, as: UTF8.self)
        return known.contains(upper) ? upper : other
    }

    /// The name of a call: its command's for one command, else `PIPELINE` or `TRANSACTION`.
    static func name(of commands: [RedisCommand], inTransaction: Bool) -> String {
        if inTransaction { return transaction }
        return commands.count == 1 ? name(of: commands[0]) : pipeline
    }
}
