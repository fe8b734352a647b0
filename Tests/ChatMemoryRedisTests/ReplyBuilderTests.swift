import Foundation
@testable import ChatMemoryRedis
import Testing

/// Replies built straight from hiredis's reader (``ReplyBuilder``): every shape Redis sends, from
/// the test server, and replies that break midway, from a peer that sends them on purpose.
@Suite struct ReplyBuilderTests {
    @Test func everyShapeComesBackAsRedisSentIt() async throws {
        try await withClient { client in
            let script = """
                return {1, {2, {'a', false}, {}}, {}, redis.error_reply('E nested'), {ok = 'FINE'}, '', 'b\\0c', -9007199254740991}
                """
            let reply = try await client.send("EVAL", script, 0)
            #expect(reply == .array([
                .integer(1), .array([.integer(2), .array([.bulkString(Array("a".utf8)), .null]), .array([])]), .array([]),
                .error(.server("E nested")), .status("FINE"), .bulkString([]), .bulkString([0x62, 0, 0x63]),
                .integer(-9_007_199_254_740_991),
            ]))
            #expect(try await client.send("EVAL", "return {}", 0) == .array([]))
            #expect(try await client.send("GET", TestServer.key()) == .null)
            #expect(try await client.send("EVAL", "return redis.status_reply('DONE')", 0) == .status("DONE"))
            await #expect(throws: RedisError.self) { try await client.send("EVAL", "return redis.error_reply('E top')", 0) }
            // A large reply: 20,000 elements of every length from 0 to 999 bytes, with NUL and 0xFF bytes.
            let key = TestServer.key()
            let values = (0..<20_000).map { index in [UInt8](repeating: UInt8(truncatingIfNeeded: index &* 31), count: index % 1_000) }
            for batch in stride(from: 0, to: values.count, by: 1_000) {
                try await client.send(RedisCommand("RPUSH", [key] + values[batch..<batch + 1_000].map { $0 as any RedisArgument }))
            }
            #expect(try await client.send("LRANGE", key, 0, -1) == .array(values.map { .bulkString($0) }))
            try await client.send("DEL", key)
        }
    }

    /// The bulk strings of one array share one buffer, one after the other (one allocation for
    /// the page, not one per string); a nested array's strings have a buffer of their own; a
    /// string kept from a reply outlives it.
    @Test func theStringsOfAnArrayShareOneBuffer() async throws {
        try await withClient { client in
            let key = TestServer.key()
            // Growing lengths: the buffer, sized at the first string, has to grow on the way.
            let values = (1...50).map { [UInt8](repeating: UInt8($0), count: $0 * 20) }
            try await client.send(RedisCommand("RPUSH", [key] + values.map { $0 as any RedisArgument }))
            var kept: RedisBytes?
            do {
                let page = try #require(try await client.send("LRANGE", key, 0, -1).array)
                let views = page.compactMap { value -> RedisBytes? in if case .bulkString(let bytes) = value { bytes } else { nil } }
                #expect(views.map(\.array) == values)
                let spans = views.map { view in view.withUnsafeBytes { (start: Int(bitPattern: $0.baseAddress), end: Int(bitPattern: $0.baseAddress) + $0.count) } }
                #expect(zip(spans, spans.dropFirst()).allSatisfy { $0.end == $1.start })
                kept = views[49]
            }
            #expect(kept?.array == values[49])
            let script = "return {'ab', {'cd', 'ef'}, 'gh'}"
            let nested = try #require(try await client.send("EVAL", script, 0).array)
            #expect(nested == [.bulkString(Array("ab".utf8)), .array([.bulkString(Array("cd".utf8)), .bulkString(Array("ef".utf8))]), .bulkString(Array("gh".utf8))])
            func start(_ value: RedisValue) -> Int? {
                if case .bulkString(let bytes) = value { return bytes.withUnsafeBytes { Int(bitPattern: $0.baseAddress) } }
                return nil
            }
            #expect(start(nested[2]) == start(nested[0]).map { $0 + 2 })
            #expect(start(nested[1].array![1]) == start(nested[1].array![0]).map { $0 + 2 })
            try await client.send("DEL", key)
        }
    }

    /// A reply cut by a protocol error or by the peer closing, after some of its elements were
    /// built: a typed error, the partial reply released (never handed out), and the next command
    /// runs on a new connection.
    @Test(arguments: [
        ("*3\r\n$1\r\na\r\n*2\r\n:1\r\n?garbage\r\n", RedisError.Code.protocolError),
        ("*3\r\n$1\r\na\r\n*2\r\n:1\r\n", RedisError.Code.connectionClosed),
        ("$10\r\nabc", RedisError.Code.connectionClosed),
    ])
    func aReplyBrokenMidwayIsATypedError(reply: String, code: RedisError.Code) async throws {
        let peer = try ScriptedPeer(replies: [Array(reply.utf8), Array("+PONG\r\n".utf8)])
        var configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: peer.port))
        configuration.commandTimeout = .seconds(30)
        let client = RedisClient(configuration: configuration)
        await #expect { try await client.send("LRANGE", "k", 0, -1) } throws: { ($0 as? RedisError)?.code == code }
        #expect(try await client.send("PING") == .status("PONG"))
        await client.shutdown()
        peer.stop()
    }
}

/// A TCP peer on 127.0.0.1 that answers the first command of its n-th connection with the n-th
/// reply it was given (bytes as they are, well-formed or not), then closes that connection.
final class ScriptedPeer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let thread: Thread

    init(replies: [[UInt8]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PrivateServerFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 4) == 0 else {
            close(fd)
            throw PrivateServerFailure("cannot listen on a loopback port")
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        thread = Thread {
            for reply in replies {
                let connection = accept(fd, nil, nil)
                guard connection >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 4_096)
                _ = read(connection, &buffer, buffer.count)   // the command (the client sends nothing before it)
                reply.withUnsafeBytes { _ = send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                shutdown(connection, Int32(SHUT_WR))
                while read(connection, &buffer, buffer.count) > 0 {}
                close(connection)
            }
        }
        thread.start()
    }

    /// Stops accepting (a connection being served is finished first).
    func stop() {
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
