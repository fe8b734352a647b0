@testable import ChatMemoryRedis
import Testing

/// The one command table: every command the four former tables knew keeps its keys, its
/// read-only flag, its metric name and its shared-pool rule.
@Suite struct CommandTableTests {
    private func info(_ words: String...) -> CommandInfo? {
        CommandTable.info(of: words.map { Array($0.utf8) })
    }

    @Test func namesAreFoundInAnyLetterCaseAndNothingElseMatches() {
        #expect(info("lpush")?.name == "LPUSH")
        #expect(info("LpUsH", "k")?.name == "LPUSH")
        #expect(info("ZREMRANGEBYSCORE")?.name == "ZREMRANGEBYSCORE")
        #expect(info("ZREMRANGEBYSCOREX") == nil)
        #expect(info("LPUS") == nil)
        #expect(info("") == nil)
        #expect(CommandTable.info(of: []) == nil)
        #expect(CommandTable.info(of: [Array("GET".utf8) + [0]]) == nil)
        #expect(CommandTable.info(of: [[0xC7, 0x45, 0x54]]) == nil)
        // Every row is found by its own name, which is upper case.
        for (packed, row) in CommandTable.rows {
            #expect(row.name == row.name.uppercased())
            #expect(PackedName(Array(row.name.utf8)) == packed)
            #expect(PackedName(Array(row.name.lowercased().utf8)) == packed)
        }
    }

    @Test func everyCommandTheFormerTablesKnewIsInTheTable() {
        let metricNames = """
            APPEND AUTH BLMOVE BLPOP BRPOP BZPOPMIN BZPOPMAX CLIENT CONFIG COPY DBSIZE DECR DECRBY DEL DISCARD ECHO EVAL
            EVALSHA EVAL_RO EVALSHA_RO EXEC EXISTS EXPIRE EXPIREAT FCALL FCALL_RO FLUSHALL FLUSHDB FUNCTION GET GETDEL
            GETEX GETRANGE GETSET HDEL HELLO HEXISTS HGET HGETALL HINCRBY HINCRBYFLOAT HKEYS HLEN HMGET HMSET HSCAN HSET
            HSETNX HVALS INCR INCRBY INCRBYFLOAT INFO KEYS LINDEX LINSERT LLEN LMOVE LPOP LPOS LPUSH LPUSHX LRANGE LREM
            LSET LTRIM MGET MONITOR MSET MSETNX MULTI OBJECT PERSIST PEXPIRE PEXPIREAT PFADD PFCOUNT PING PSETEX
            PSUBSCRIBE PTTL PUBLISH PUNSUBSCRIBE QUIT RENAME RENAMENX RPOP RPUSH RPUSHX SADD SCAN SCARD SCRIPT SELECT SET
            SETEX SETNX SETRANGE SINTER SISMEMBER SMEMBERS SMOVE SPOP SRANDMEMBER SREM SSCAN STRLEN SUBSCRIBE SUNION TIME
            TOUCH TTL TYPE UNLINK UNSUBSCRIBE UNWATCH WAIT WATCH XACK XADD XAUTOCLAIM XCLAIM XDEL XGROUP XINFO XLEN
            XPENDING XRANGE XREAD XREADGROUP XREVRANGE XTRIM ZADD ZCARD ZCOUNT ZINCRBY ZPOPMAX ZPOPMIN ZRANGE
            ZRANGEBYSCORE ZRANK ZREM ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREVRANGE ZREVRANK ZSCAN ZSCORE
            """
        for name in metricNames.split(whereSeparator: \.isWhitespace) {
            #expect(CommandNames.name(of: RedisCommand(String(name))) == String(name))
        }
        let keyless = """
            PING ECHO INFO TIME DBSIZE SCRIPT FUNCTION CLUSTER COMMAND CONFIG CLIENT ACL FLUSHALL FLUSHDB RANDOMKEY SCAN
            KEYS WAIT WAITAOF PUBLISH AUTH HELLO SELECT READONLY READWRITE ASKING QUIT RESET LASTSAVE SAVE BGSAVE
            BGREWRITEAOF ROLE SLOWLOG LATENCY DEBUG MULTI EXEC DISCARD UNWATCH LOLWUT SWAPDB MODULE REPLICAOF SLAVEOF
            FAILOVER SHUTDOWN MONITOR SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE PUBSUB SYNC PSYNC
            """
        for name in keyless.split(whereSeparator: \.isWhitespace) {
            #expect(info(String(name))?.keys == CommandInfo.KeyPositions.none, "\(name)")
            #expect(CommandKeys.keys(of: [Array(name.utf8), Array("arg".utf8)]).isEmpty, "\(name)")
        }
        let readOnly = """
            GET MGET STRLEN GETRANGE EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME LRANGE LLEN LINDEX LPOS HGET HMGET
            HGETALL HLEN HEXISTS HKEYS HVALS SMEMBERS SISMEMBER SMISMEMBER SCARD ZRANGE ZSCORE ZCARD ZRANK ZCOUNT SCAN
            SSCAN HSCAN ZSCAN DBSIZE PING ECHO TIME INFO ROLE XRANGE XREVRANGE XLEN PFCOUNT BITCOUNT GETBIT OBJECT MEMORY
            EVAL_RO EVALSHA_RO FCALL_RO CLUSTER
            """
        for name in readOnly.split(whereSeparator: \.isWhitespace) {
            #expect(CommandTable.onlyReads([RedisCommand(String(name))]), "\(name)")
        }
    }

    @Test func writesAndUnknownCommandsAreNeverTakenForReads() {
        for name in ["SET", "LPUSH", "DEL", "EVAL", "EVALSHA", "FCALL", "XREADGROUP", "SCRIPT", "FLUSHALL", "MYMODULE.CMD", ""] {
            #expect(!CommandTable.onlyReads([RedisCommand(name)]), "\(name)")
        }
        #expect(!CommandTable.onlyReads([RedisCommand("GET", "a"), RedisCommand("SET", "a", "b")]))
        #expect(CommandTable.onlyReads([]))
    }

    @Test func sharedPoolRulesAgreeWithTheRestOfTheRow() {
        for row in CommandTable.rows.values {
            switch row.sharedUse {
            case .blocks:
                // Every always-blocking command is refused as blocking, and says how long it blocks.
                #expect(SharedConnectionContract.hazard(of: [Array(row.name.utf8)]) == .blocking)
                #expect(SharedConnectionContract.blockTime(of: [Array(row.name.utf8), Array("2".utf8), Array("2".utf8)]) != nil, "\(row.name)")
            case .changesState:
                #expect(SharedConnectionContract.hazard(of: [Array(row.name.utf8)]) == .state)
                #expect(!row.readOnly, "\(row.name)")
            case .safe:
                #expect(SharedConnectionContract.hazard(of: [Array(row.name.utf8), Array("k".utf8)]) == nil)
                #expect(SharedConnectionContract.blockTime(of: [Array(row.name.utf8), Array("2".utf8)]) == nil)
            case .changesStateWithSubcommands, .blocksWithBlockOption:
                break
            }
        }
    }
}
