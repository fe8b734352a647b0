import Redis
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
    }

    @Test func parsesUnixURLs() throws {
        let socket = try RedisConfiguration(url: "unix:///run/redis/redis.sock?db=2")
        #expect(socket.endpoint == .unixSocket(path: "/run/redis/redis.sock"))
        #expect(socket.database == 2)
    }

    @Test(arguments: [
        ("localhost:6379", "expected redis://"),
        ("http://localhost", "unsupported scheme 'http'"),
        ("rediss://localhost", "TLS"),
        ("redis://localhost:0", "port '0'"),
        ("redis://localhost:99999", "port '99999'"),
        ("redis://localhost:abc", "port 'abc'"),
        ("redis://localhost/x", "database 'x'"),
        ("redis://localhost/-1", "database '-1'"),
        ("redis://", "missing host"),
        ("redis://:@localhost", "empty password"),
        ("redis://[::1:6379", "unclosed '['"),
        ("redis://localhost?timeout=1", "query"),
        ("unix://relative.sock", "absolute socket path"),
        ("unix:///tmp/r.sock?pass=1", "unknown parameter 'pass'"),
        ("unix:///tmp/r.sock?db=z", "database 'z'"),
    ])
    func rejectsMalformedURLs(url: String, reason: String) {
        #expect {
            _ = try RedisConfiguration(url: url)
        } throws: { error in
            guard let error = error as? RedisError, error.code == .invalidConfiguration else { return false }
            return error.message.contains(reason)
        }
    }

    @Test func neverShowsThePassword() {
        for url in ["redis://user:topsecret@localhost:abc", "redis://topsecret@localhost", "redis://:topsecret@h/x"] {
            do {
                _ = try RedisConfiguration(url: url)
                Issue.record("\(url) should not parse")
            } catch {
                #expect(!"\(error)".contains("topsecret"))
                #expect(!String(reflecting: error).contains("topsecret"))
            }
        }
        let configuration = try? RedisConfiguration(url: "redis://user:topsecret@localhost")
        #expect(configuration != nil)
        #expect(!"\(configuration!)".contains("topsecret"))
        #expect(!"\(configuration!.credentials!)".contains("topsecret"))
    }
}
