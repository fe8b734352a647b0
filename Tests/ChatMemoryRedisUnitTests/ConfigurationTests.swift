import Foundation
import ChatMemoryRedis
import Testing

@Suite struct ConfigurationTests {
    @Test func parsesTCPURLs() throws {
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(plain.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(plain.credentials == nil && plain.database == 0)

        let full = try RedisConfiguration(url: "redis://chat:s%40cret@10.0.0.5:6380/3")
        #expect(full.endpoint == .tcp(host: "10.0.0.5", port: 6380))
        #expect(full.credentials == .init(username: "chat", password: "s@cret"))
        #expect(full.database == 3)

        let passwordOnly = try RedisConfiguration(url: "redis://:hunter2@127.0.0.1:7000")
        #expect(passwordOnly.credentials == .init(username: nil, password: "hunter2"))

        let ipv6 = try RedisConfiguration(url: "redis://[::1]:6390/1")
        #expect(ipv6.endpoint == .tcp(host: "::1", port: 6390))
        #expect(ipv6.database == 1)

        let extremes = try RedisConfiguration(url: "redis://h:65535/2147483647")
        #expect(extremes.endpoint == .tcp(host: "h", port: 65535) && extremes.database == 2147483647)
    }

    @Test(arguments: [
        ("redis://u:pa/ss@127.0.0.1:6379", "u", "pa/ss"),
        ("redis://u:p@ss@127.0.0.1:6379/2", "u", "p@ss"),
        ("redis://u:a:b:c@127.0.0.1", "u", "a:b:c"),
        ("redis://:/@:%25@127.0.0.1", nil, "/@:%"),
        ("redis://app:x/y@z:w%2Fv@[::1]:7000/4", "app", "x/y@z:w/v"),
        ("redis://us%3Aer:pw@h", "us:er", "pw"),
        ("unix://:pa/ss@/run/redis.sock?db=3", nil, "pa/ss"),
    ] as [(String, String?, String)])
    func passwordsMayHoldSlashAtAndColonUnencoded(url: String, user: String?, password: String) throws {
        let configuration = try RedisConfiguration(url: url)
        #expect(configuration.credentials == .init(username: user, password: password))
    }

    @Test func hostPortAndDatabaseComeAfterTheLastAt() throws {
        let configuration = try RedisConfiguration(url: "redis://u:p/1@h:2/3@example.org:6380/5")
        #expect(configuration.endpoint == .tcp(host: "example.org", port: 6380))
        #expect(configuration.database == 5)
        #expect(configuration.credentials?.password == "p/1@h:2/3")
    }

    @Test func parsesUnixURLs() throws {
        let socket = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2")
        #expect(socket.endpoint == .unixSocket(path: "/run/redis/redis.sock"))
        #expect(socket.database == 2)
        let withUser = try RedisConfiguration(url: "unix://chat:pw@/run/redis.sock")
        #expect(withUser.credentials == .init(username: "chat", password: "pw"))
        #expect(withUser.endpoint == .unixSocket(path: "/run/redis.sock"))
    }

    @Test(arguments: [
        ("localhost:6379", "expected redis://"),
        ("http://localhost", "http://…: unsupported scheme"),
        ("rediss://localhost:0", "the port is not a number from 1 to 65535"),
        ("redis://localhost:0", "the port is not a number from 1 to 65535"),
        ("redis://localhost:99999", "the port is not a number from 1 to 65535"),
        ("redis://localhost:-1", "the port is not a number from 1 to 65535"),
        ("redis://localhost:9223372036854775807", "the port is not a number from 1 to 65535"),
        ("redis://localhost:99999999999999999999999999", "the port is not a number from 1 to 65535"),
        ("redis://localhost:abc", "the port is not a number from 1 to 65535"),
        ("redis://localhost/x", "the database is not a non-negative integer"),
        ("redis://localhost/-1", "the database is not a non-negative integer"),
        ("redis://localhost/2147483648", "database 2147483648 is not from 0 to 2147483647"),
        ("redis://localhost/9223372036854775807", "database 9223372036854775807 is not from 0"),
        ("redis://localhost/99999999999999999999", "the database is not a non-negative integer"),
        ("redis://", "missing host"),
        ("redis://:@localhost", "empty password"),
        ("redis://[::1:6379", "unclosed '['"),
        ("redis://localhost?timeout=1", "query"),
        ("unix://relative.sock", "absolute socket path"),
        ("unix:///tmp/r.sock?pass=1", "unknown parameter (only db=N"),
        ("unix:///tmp/r.sock?db=z", "the database is not a non-negative integer"),
        ("unix:///tmp/r.sock?db=2147483648", "database 2147483648"),
        ("unix:///" + String(repeating: "s", count: 200), "the socket path is 201 bytes long"),
    ])
    func rejectsMalformedURLs(url: String, reason: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError, error.code == .invalidConfiguration else { return false }
            return error.message.contains(reason)
        }
    }

    /// A password typed where the host or port goes (the `@host` forgotten) is not echoed either.
    @Test(arguments: ["redis://user:Sup3rS3cret", "redis://:Sup3rS3cret", "redis://user:Sup3r/S3cret",
                      "redis://app:S3cr/et127.0.0.1:6379", "redis://Sup3rS3cret/x", "unix:///s?Sup3rS3cret=1"])
    func malformedURLsNeverEchoWhatMayBeAPassword(url: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return !"\(error)".contains("S3cr") && !error.message.contains("S3cr") && !error.message.contains("Sup3r")
        }
    }

    // MARK: - The environment

    @Test func environmentGivesTheURLAndFallback() throws {
        let fromURL = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://:pw@cache:6390/4"])
        #expect(fromURL.endpoint == .tcp(host: "cache", port: 6390) && fromURL.database == 4)
        #expect(fromURL.credentials == .init(password: "pw"))
        let fallback = try RedisConfiguration.fromEnvironment(["REDIS_URL": ""], fallback: "redis://other:7000")
        #expect(fallback.endpoint == .tcp(host: "other", port: 7000) && fallback.credentials == nil)
        #expect(try RedisConfiguration.fromEnvironment([:]).endpoint == .tcp(host: "127.0.0.1", port: 6379))
    }

    @Test func environmentPasswordAndUserReplaceTheURLs() throws {
        let both = try RedisConfiguration.fromEnvironment([
            "REDIS_URL": "redis://old:old-pw@h/1", "REDIS_USERNAME": "chat", "REDIS_PASSWORD": "p/@:%s",
        ])
        #expect(both.credentials == .init(username: "chat", password: "p/@:%s"))
        #expect(both.endpoint == .tcp(host: "h", port: 6379) && both.database == 1)
        let passwordOnly = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://old:old-pw@h", "REDIS_PASSWORD": "new"])
        #expect(passwordOnly.credentials == .init(username: "old", password: "new"))
        let userOnly = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://old:pw@h", "REDIS_USERNAME": "new"])
        #expect(userOnly.credentials == .init(username: "new", password: "pw"))
        let noURL = try RedisConfiguration.fromEnvironment(["REDIS_PASSWORD": "pw"])
        #expect(noURL.credentials == .init(password: "pw"))
    }

    @Test func environmentPasswordFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("redis-pw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let url = folder.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let secret = "s3cr/t@:%\u{1F511}"
        for ending in ["", "\n", "\r\n", "\n\n"] {
            let path = try file("pw", Array((secret + ending).utf8))
            let configuration = try RedisConfiguration.fromEnvironment(["REDIS_USERNAME": "chat", "REDIS_PASSWORD_FILE": path])
            #expect(configuration.credentials == .init(username: "chat", password: secret))
        }
        let failures: [([String: String], String)] = [
            (["REDIS_PASSWORD": "a", "REDIS_PASSWORD_FILE": try file("pw", [0x61])], "not both"),
            (["REDIS_PASSWORD_FILE": folder.appendingPathComponent("missing").path], "cannot open REDIS_PASSWORD_FILE"),
            (["REDIS_PASSWORD_FILE": folder.path], "cannot read REDIS_PASSWORD_FILE"),
            (["REDIS_PASSWORD_FILE": try file("empty", Array("\n".utf8))], "is empty"),
            (["REDIS_PASSWORD_FILE": try file("binary", [0x66, 0xFF, 0xFE])], "is not UTF-8"),
            (["REDIS_PASSWORD_FILE": try file("huge", [UInt8](repeating: 0x61, count: 64 * 1024 + 1))], "larger than 64 KiB"),
            (["REDIS_PASSWORD_FILE": "/dev/zero"], "larger than 64 KiB"),
            (["REDIS_USERNAME": "chat"], "no password"),
        ]
        for (environment, reason) in failures {
            #expect {
                _ = try RedisConfiguration.fromEnvironment(environment)
            } throws: { error in
                (error as? RedisError)?.code == .invalidConfiguration && "\(error)".contains(reason)
            }
        }
        let exactlyTheLimit = try file("limit", [UInt8](repeating: 0x61, count: 64 * 1024))
        #expect(try RedisConfiguration.fromEnvironment(["REDIS_PASSWORD_FILE": exactlyTheLimit]).credentials?.password.utf8.count == 64 * 1024)
    }
}
