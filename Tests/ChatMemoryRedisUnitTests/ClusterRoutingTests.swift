@testable import ChatMemoryRedis
import Foundation
import Testing

/// The pieces of cluster routing that need no server: hash slots, command keys, redirect replies,
/// the slot map, and the cluster and Sentinel URLs.
@Suite struct ClusterRoutingTests {
    @Test func hashSlotsMatchRedis() {
        // CRC16/XMODEM's check value, and slots that `CLUSTER KEYSLOT` reports.
        #expect(HashSlot.crc16(Array("123456789".utf8)[...]) == 0x31C3)
        #expect(HashSlot.of(Array("foo".utf8)) == 12182)
        #expect(HashSlot.of(Array("bar".utf8)) == 5061)
        #expect(HashSlot.of([]) == 0)
        #expect(HashSlot.of(Array("{user1000}.following".utf8)) == HashSlot.of(Array("{user1000}.followers".utf8)))
        #expect(HashSlot.of(Array("{user1000}.following".utf8)) == HashSlot.of(Array("user1000".utf8)))
        // An empty tag hashes the whole key; only the first {…} counts.
        #expect(HashSlot.hashed(Array("foo{}{bar}".utf8)) == Array("foo{}{bar}".utf8)[...])
        #expect(HashSlot.hashed(Array("foo{{bar}}zap".utf8)) == Array("{bar".utf8)[...])
        #expect(HashSlot.hashed(Array("foo{bar}{zap}".utf8)) == Array("bar".utf8)[...])
        #expect(HashSlot.hashed(Array("{".utf8)) == Array("{".utf8)[...])
        // Any bytes, including invalid UTF-8 and NUL, give a slot in range.
        for key in [[0xFF, 0xFE, 0x00], Array(repeating: 0x7B, count: 10_000), [0x7B, 0x7D]] as [[UInt8]] {
            #expect((0..<16384).contains(HashSlot.of(key)))
        }
    }

    @Test(arguments: [
        (["GET", "k"], ["k"]),
        (["LPUSH", "k", "a", "b"], ["k"]),
        (["MSET", "a", "1", "b", "2"], ["a", "b"]),
        (["DEL", "a", "b", "c"], ["a", "b", "c"]),
        (["EVALSHA", "sha", "2", "k1", "k2", "arg"], ["k1", "k2"]),
        (["EVAL", "return 1", "0", "arg"], []),
        (["EVAL", "return 1", "-3"], []),
        (["EVAL", "return 1", "99", "k"], ["k"]),
        (["BLPOP", "a", "b", "5"], ["a", "b"]),
        (["ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"], ["dst", "a", "b"]),
        (["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"], ["s1", "s2"]),
        (["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"], ["s1"]),
        (["LMOVE", "a", "b", "LEFT", "RIGHT"], ["a", "b"]),
        (["OBJECT", "ENCODING", "k"], ["k"]),
        (["MEMORY", "USAGE", "k"], ["k"]),
        (["MEMORY", "STATS"], []),
        (["PING"], []),
        (["ping"], []),
        (["SCAN", "0"], []),
        (["WAIT", "1", "100"], []),
        (["GET"], []),
    ] as [([String], [String])])
    func commandKeys(command: [String], keys: [String]) {
        #expect(CommandKeys.keys(of: command.map { Array($0.utf8) }) == keys.map { Array($0.utf8) })
    }

    @Test func unitsWhoseKeysShareNoSlotAreRefusedBeforeSending() throws {
        #expect(try ClusterRouter.slot(of: [RedisCommand("PING")]) == nil)
        #expect(try ClusterRouter.slot(of: [RedisCommand("GET", "foo")]) == 12182)
        #expect(try ClusterRouter.slot(of: [RedisCommand("MGET", "{t}a", "{t}b"), RedisCommand("SET", "{t}c", "1")]) == HashSlot.of(Array("t".utf8)))
        for unit in [[RedisCommand("MGET", "foo", "bar")], [RedisCommand("GET", "foo"), RedisCommand("GET", "bar")]] {
            let error = #expect(throws: RedisError.self) { try ClusterRouter.slot(of: unit) }
            #expect(error?.code == .server(.crossSlot))
            #expect(error?.mayHaveRun == false)
        }
    }

    @Test func redirectRepliesAreRead() {
        let node = RedisConfiguration.Endpoint.tcp(host: "10.0.0.1", port: 7000)
        guard case .moved(3999, .tcp("127.0.0.1", 6381))? = ClusterReply(.server("MOVED 3999 127.0.0.1:6381"), from: node) else {
            Issue.record("MOVED not read"); return
        }
        guard case .ask(12, .tcp("10.0.0.1", 7002))? = ClusterReply(.server("ASK 12 :7002"), from: node) else {
            Issue.record("ASK with an empty host not read"); return
        }
        guard case .moved(1, .tcp("::1", 7003))? = ClusterReply(.server("MOVED 1 ::1:7003"), from: node) else {
            Issue.record("MOVED to IPv6 not read"); return
        }
        for kind in ["TRYAGAIN x", "CLUSTERDOWN The cluster is down", "LOADING x", "MASTERDOWN x", "READONLY x"] {
            guard case .retry? = ClusterReply(.server(kind), from: node) else { Issue.record("\(kind) not retried"); continue }
        }
        // Malformed redirects and other errors are left to the caller.
        for message in ["MOVED", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1", "MOVED 1 h:0", "MOVED 1 h:99999", "MOVED 1 nocolon", "ERR x", "WRONGTYPE x"] {
            #expect(ClusterReply(.server(message), from: node) == nil, "\(message)")
        }
    }

    @Test func slotMapsAreReadAndMalformedOnesRefused() throws {
        let reply = RedisValue.array([
            .array([.integer(0), .integer(5460), .array([.bulkString(Array("".utf8)), .integer(7000), .bulkString(Array("id1".utf8))]),
                    .array([.bulkString(Array("127.0.0.1".utf8)), .integer(7003)])]),
            .array([.integer(5461), .integer(16383), .array([.bulkString(Array("127.0.0.2".utf8)), .integer(7001)])]),
        ])
        let map = try SlotMap(clusterSlots: reply, answeredBy: .tcp(host: "10.1.1.1", port: 7000))
        #expect(map.owners[0] == .tcp(host: "10.1.1.1", port: 7000))
        #expect(map.owners[16383] == .tcp(host: "127.0.0.2", port: 7001))
        #expect(map.primaries.count == 2 && map.nodes.count == 3 && map.coversEverySlot)
        for bad: RedisValue in [.integer(1), .array([.array([.integer(5), .integer(1), .array([.bulkString([]), .integer(1)])])]),
                                .array([.array([.integer(0), .integer(16384), .array([.bulkString([]), .integer(1)])])]),
                                .array([.array([.integer(0), .integer(1), .array([.bulkString([]), .integer(0)])])]),
                                .array([.array([.integer(0), .integer(1)])])] {
            #expect(throws: RedisError.self) { try SlotMap(clusterSlots: bad, answeredBy: .tcp(host: "h", port: 1)) }
        }
    }

    @Test func clusterAndSentinelURLs() throws {
        let cluster = try RedisConfiguration(url: "redis+cluster://app:s3cret@10.0.0.1:7000,10.0.0.2,[::1]:7002")
        #expect(cluster.topology == .cluster(.init(seeds: [.tcp(host: "10.0.0.1", port: 7000), .tcp(host: "10.0.0.2", port: 6379), .tcp(host: "::1", port: 7002)])))
        #expect(cluster.credentials == .init(username: "app", password: "s3cret"))
        #expect(!"\(cluster)".contains("s3cret") && "\(cluster)".contains("cluster seeds 10.0.0.1:7000"))

        let sentinel = try RedisConfiguration(url: "redis+sentinel://:pw@s1,s2:26380/chat%2Dmaster/3")
        #expect(sentinel.topology == .sentinel(.init(sentinels: [.tcp(host: "s1", port: 26379), .tcp(host: "s2", port: 26380)], masterName: "chat-master")))
        #expect(sentinel.database == 3 && sentinel.credentials?.password == "pw")

        for bad in ["redis+cluster://", "redis+cluster://h:1,", "redis+cluster://h:1/2", "redis+cluster://h:0", "redis+cluster://h:1?x",
                    "redis+sentinel://h:1", "redis+sentinel://h:1/", "redis+sentinel://h:1/m/x", "redis+sentinel://h:1/m/1/2",
                    "redis+sentinel://h:1/m%2", "redis+sentinel://,/m", "redis+sentinel://h:1/bad name"] {
            let error = #expect(throws: RedisError.self, "\(bad)") { try RedisConfiguration(url: bad) }
            #expect(error?.code == .invalidConfiguration)
        }
        // A password never shows in the errors of these schemes either.
        let error = #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis+cluster://u:Zebra99@h:99999") }
        #expect(error.map { !"\($0)".contains("Zebra99") } == true)
    }

    @Test func topologySettingsAreValidated() {
        var configuration = RedisConfiguration()
        for (topology, problem) in [
            (RedisConfiguration.Topology.cluster(.init(seeds: [])), "at least one seed"),
            (.cluster(.init(seeds: [.unixSocket(path: "/tmp/x")])), "not a TCP address"),
            (.sentinel(.init(sentinels: [], masterName: "m")), "at least one sentinel"),
            (.sentinel(.init(sentinels: [.tcp(host: "h", port: 1)], masterName: "")), "master name"),
            (.sentinel(.init(sentinels: [.tcp(host: "h", port: 1)], masterName: "m", credentials: .init(password: ""))), "password is empty"),
        ] {
            configuration.topology = topology
            #expect(throws: RedisError.self, "\(problem)") { try configuration.validate() }
        }
        var cluster = RedisConfiguration.Cluster(seeds: [.tcp(host: "h", port: 1)])
        configuration.topology = .cluster(cluster)
        configuration.database = 1
        #expect(throws: RedisError.self) { try configuration.validate() }
        configuration.database = 0
        for change in [{ (c: inout RedisConfiguration.Cluster) in c.maxRedirects = 0 }, { $0.maxRedirects = 65 }, { $0.maxRetries = -1 }, { $0.maxRetries = 1025 },
                       { $0.retryBackoff = .zero }, { $0.refreshInterval = .seconds(-1) }] {
            var changed = cluster
            change(&changed)
            configuration.topology = .cluster(changed)
            #expect(throws: RedisError.self) { try configuration.validate() }
        }
        cluster.maxRetries = 0
        configuration.topology = .cluster(cluster)
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test func sentinelCredentialsComeFromTheirOwnVariables() throws {
        let url = "redis+sentinel://:datapw@127.0.0.1:26379/chatmaster"
        let configuration = try RedisConfiguration.fromEnvironment(["REDIS_URL": url, "REDIS_SENTINEL_PASSWORD": "sentinelpw", "REDIS_SENTINEL_USERNAME": "watcher"])
        guard case .sentinel(let sentinel) = configuration.topology else { Issue.record("not sentinel"); return }
        #expect(sentinel.credentials == .init(username: "watcher", password: "sentinelpw"))
        #expect(configuration.credentials == .init(username: nil, password: "datapw"))
        for text in ["\(configuration)", String(reflecting: configuration), "\(configuration.topology)"] {
            #expect(!text.contains("sentinelpw") && !text.contains("datapw"), "\(text)")
        }
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains("sentinelpw") && !dumped.contains("datapw"))

        for environment in [["REDIS_URL": "redis://h", "REDIS_SENTINEL_PASSWORD": "x"],
                            ["REDIS_URL": url, "REDIS_SENTINEL_USERNAME": "watcher"],
                            ["REDIS_URL": url, "REDIS_SENTINEL_PASSWORD": "x", "REDIS_SENTINEL_PASSWORD_FILE": "/nonexistent"]] {
            let error = #expect(throws: RedisError.self) { try RedisConfiguration.fromEnvironment(environment) }
            #expect(error?.code == .invalidConfiguration)
        }
    }
}
