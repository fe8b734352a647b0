import Foundation
import ChatMemoryRedis
import Testing

/// Settings at and beyond their limits: never a trap. Out of range is a typed error on first use;
/// a timeout longer than the system takes counts as the longest it takes.
@Suite struct LimitsTests {
    static let invalidSettings: [(String, @Sendable (inout RedisConfiguration) -> Void)] = [
        ("port 9223372036854775807 is not from 1 to 65535", { $0.endpoint = .tcp(host: "127.0.0.1", port: .max) }),
        ("port -9223372036854775808 is not", { $0.endpoint = .tcp(host: "127.0.0.1", port: .min) }),
        ("port -1 is not", { $0.endpoint = .tcp(host: "127.0.0.1", port: -1) }),
        ("port 0 is not", { $0.endpoint = .tcp(host: "127.0.0.1", port: 0) }),
        ("port 65536 is not", { $0.endpoint = .tcp(host: "127.0.0.1", port: 65536) }),
        ("port 2147483648 is not", { $0.endpoint = .tcp(host: "127.0.0.1", port: Int(Int32.max) + 1) }),
        ("the host is empty", { $0.endpoint = .tcp(host: "", port: 6379) }),
        ("the host contains a NUL byte", { $0.endpoint = .tcp(host: "127.0.0.1\0evil", port: 6379) }),
        ("the socket path is empty", { $0.endpoint = .unixSocket(path: "") }),
        ("the socket path contains a NUL byte", { $0.endpoint = .unixSocket(path: "/tmp/a\0b") }),
        ("the socket path is 4097 bytes long", { $0.endpoint = .unixSocket(path: "/" + String(repeating: "p", count: 4096)) }),
        ("database -1 is not", { $0.database = -1 }),
        ("database 2147483648 is not", { $0.database = Int(Int32.max) + 1 }),
        ("database 9223372036854775807 is not", { $0.database = .max }),
        ("database -9223372036854775808 is not", { $0.database = .min }),
        ("the client name may hold printable ASCII only", { $0.clientName = "two words" }),
        ("the client name may hold printable ASCII only", { $0.clientName = "line\nbreak" }),
        ("connectTimeout 0.0 seconds is not more than zero", { $0.connectTimeout = .zero }),
        ("connectTimeout", { $0.connectTimeout = .seconds(-1) }),
        ("connectTimeout", { $0.connectTimeout = .seconds(Int64.min) }),
        ("commandTimeout", { $0.commandTimeout = Duration(attoseconds: .min) }),
        ("commandTimeout", { $0.commandTimeout = .nanoseconds(-1) }),
        ("pool.size is 0; it must be from 1 to 1024", { $0.pool.size = 0 }),
        ("pool.size is -1", { $0.pool.size = -1 }),
        ("pool.size is -9223372036854775808", { $0.pool.size = .min }),
        ("pool.size is 9223372036854775807", { $0.pool.size = .max }),
        ("pool.size is 1025", { $0.pool.size = 1025 }),
        ("pool.maxPipelinedRequests is 0", { $0.pool.maxPipelinedRequests = 0 }),
        ("pool.maxPipelinedRequests is -9223372036854775808", { $0.pool.maxPipelinedRequests = .min }),
        ("pool.initialBackoff", { $0.pool.initialBackoff = .seconds(-1) }),
        ("pool.initialBackoff", { $0.pool.initialBackoff = Duration(attoseconds: .min) }),
        ("pool.maxBackoff", { $0.pool.maxBackoff = .seconds(-1) }),
        ("is shorter than pool.initialBackoff", { $0.pool.initialBackoff = .seconds(10) }),
    ]

    @Test(arguments: 0..<invalidSettings.count)
    func outOfRangeSettingIsAnErrorOnFirstUse(index: Int) async throws {
        let (reason, adjust) = Self.invalidSettings[index]
        var configuration = try TestServer.configuration()
        adjust(&configuration)
        #expect {
            try configuration.validate()
        } throws: { error in
            (error as? RedisError)?.code == .invalidConfiguration && "\(error)".contains(reason)
        }
        let client = RedisClient(configuration: configuration)
        for _ in 0..<2 {
            let error = await expectRedisError(.invalidConfiguration) { try await client.send("PING") }
            #expect(error.map { "\($0)".contains(reason) } == true, "\(String(describing: error))")
        }
        await expectRedisError(.invalidConfiguration) { _ = try await client.pipeline([RedisCommand("PING")]) }
        await client.shutdown()
        await expectRedisError(.invalidConfiguration) { try await client.send("PING") }
    }

    @Test func extremeButValidSettingsWork() async throws {
        let longest: [Duration] = [
            .seconds(Int64.max / 10), .seconds(Int64.max), .nanoseconds(Int64.max),
            Duration(attoseconds: .max), RedisConfiguration.maximumTimeout, .nanoseconds(1),
        ]
        for duration in longest {
            try await withClient({
                $0.connectTimeout = duration
                $0.commandTimeout = duration
                $0.pool.initialBackoff = duration
                $0.pool.maxBackoff = Duration(attoseconds: .max)
                $0.pool.maxPipelinedRequests = .max
                $0.pool.size = 1
            }) { client in
                if duration > .milliseconds(1) {
                    #expect(try await client.send("PING").string == "PONG")
                } else {
                    // One nanosecond rounds up to one millisecond: either answered or a timeout, never a trap.
                    do {
                        _ = try await client.send("PING")
                    } catch let error as RedisError {
                        #expect([.timeout, .connectionClosed, .io].contains(error.code), "\(error)")
                    }
                }
            }
        }
        var largest = try TestServer.configuration()
        largest.pool.size = RedisConfiguration.Pool.maximumSize
        largest.pool.maxPipelinedRequests = .max
        largest.database = Int(Int32.max)
        largest.endpoint = .tcp(host: "127.0.0.1", port: 65535)
        try largest.validate()
        largest.endpoint = .unixSocket(path: "/" + String(repeating: "s", count: 102))  // 103 bytes: fits everywhere
        try largest.validate()
        try await withClient({ $0.pool.size = 1; $0.database = Int(Int32.max) }) { client in
            // The server refuses the database, with its own typed error.
            let error = await expectRedisError(.server(.generic)) { try await client.send("PING") }
            #expect(error?.message.contains("DB index is out of range") == true)
        }
    }

    @Test func hugeBackoffAfterARefusedConnectNeverTraps() async throws {
        let refusing = try RefusingPort()
        defer { refusing.release() }
        for backoff in [Duration.seconds(Int64.max), Duration(attoseconds: .max), .zero] {
            try await withClient({
                $0.endpoint = .tcp(host: "127.0.0.1", port: refusing.port)
                $0.pool.size = 1
                $0.pool.initialBackoff = backoff
                $0.pool.maxBackoff = Duration(attoseconds: .max)
            }) { client in
                // The first call connects and fails; within the backoff the next ones fail at once with
                // the same error (with no backoff, each one tries again).
                for _ in 0..<4 { await expectRedisError(.connectionRefused) { try await client.send("PING") } }
            }
        }
    }
}
