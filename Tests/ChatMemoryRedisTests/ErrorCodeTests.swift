import ChatMemoryRedis
import Testing

/// `RedisError.Code` and `ServerErrorKind` are open structs: callers compare and switch over them
/// with a `default:` branch, and server error words the library has no name for stay distinct.
@Suite struct ErrorCodeTests {
    static let named: [RedisError.Code] = [
        .connectionRefused, .timeout, .connectionClosed, .io, .protocolError, .invalidConfiguration,
        .invalidCommand, .requiresDedicatedConnection, .unexpectedReply, .shutdown,
    ]

    /// How a caller switches over a code: a `default:` branch, server kinds matched by value.
    static func advice(_ code: RedisError.Code) -> String {
        switch code {
        case .timeout, .connectionClosed, .connectionRefused: "retry later"
        case .server(.wrongType): "not a list"
        case .server(ServerErrorKind(rawValue: "NOGROUP")): "create the group"
        case .requiresDedicatedConnection: "use a dedicated connection"
        default: "give up"
        }
    }

    typealias ServerErrorKind = RedisError.ServerErrorKind

    @Test func switchingOverCodesWithADefaultBranch() {
        #expect(Self.advice(.timeout) == "retry later")
        #expect(Self.advice(.connectionRefused) == "retry later")
        #expect(Self.advice(.server(.wrongType)) == "not a list")
        #expect(Self.advice(.server(ServerErrorKind(rawValue: "NOGROUP"))) == "create the group")
        #expect(Self.advice(.requiresDedicatedConnection) == "use a dedicated connection")
        #expect(Self.advice(.server(.generic)) == "give up")
        #expect(Self.advice(.shutdown) == "give up")
        #expect(Self.advice(.server(.unknown)) == "give up")
    }

    @Test func everyCodeIsDistinctAndEqualToItself() {
        #expect(Set(Self.named).count == Self.named.count)
        for code in Self.named {
            #expect(code == code)
            #expect(code.serverErrorKind == nil)
            #expect(code != .server(.generic))
            #expect(code != .server(ServerErrorKind(rawValue: code.description)))
        }
        #expect(RedisError.Code.server(.wrongType) == .server(ServerErrorKind(rawValue: "WRONGTYPE")))
        #expect(RedisError.Code.server(.wrongType) != .server(.generic))
        #expect(RedisError.Code.server(.wrongType).serverErrorKind == .wrongType)
        // Kinds compare by their exact word.
        #expect(ServerErrorKind(rawValue: "wrongtype") != .wrongType)
        #expect(ServerErrorKind(rawValue: "CROSSSLOT") == .crossSlot)
        #expect(ServerErrorKind(rawValue: "") == .unknown)
    }

    @Test func descriptionsNameTheCode() {
        let names = ["connectionRefused", "timeout", "connectionClosed", "io", "protocolError", "invalidConfiguration",
                     "invalidCommand", "requiresDedicatedConnection", "unexpectedReply", "shutdown"]
        #expect(Self.named.map(\.description) == names)
        #expect(RedisError.Code.server(.noPermission).description == "server(NOPERM)")
        #expect(RedisError.Code.server(ServerErrorKind(rawValue: "NOGROUP")).description == "server(NOGROUP)")
        #expect(ServerErrorKind.outOfMemory.description == "OOM")
        #expect(ServerErrorKind.outOfMemory.rawValue == "OOM")
        #expect(RedisError(.timeout, "no reply").description == "timeout: no reply")
        #expect(RedisError.server("WRONGTYPE Operation against a key").description == "WRONGTYPE Operation against a key")
        #expect(RedisError.server("NOGROUP no such group").code == .server(ServerErrorKind(rawValue: "NOGROUP")))
    }

    @Test func unnamedServerErrorWordsKeepTheirText() async throws {
        try await withClient { client in
            let key = TestServer.key()
            try await client.send("XADD", key, "*", "field", "1")
            let missing = await expectRedisError(.server(ServerErrorKind(rawValue: "NOGROUP"))) {
                try await client.send("XREADGROUP", "GROUP", "nobody", "consumer", "COUNT", 1, "STREAMS", key, ">")
            }
            #expect(missing?.code.serverErrorKind?.rawValue == "NOGROUP")
            try await client.send("XGROUP", "CREATE", key, "readers", "0")
            await expectRedisError(.server(ServerErrorKind(rawValue: "BUSYGROUP"))) {
                try await client.send("XGROUP", "CREATE", key, "readers", "0")
            }
            try await client.send("DEL", key)

            // A script's own error words, a word alone, and replies with no first word.
            await expectRedisError(.server(ServerErrorKind(rawValue: "MYAPP"))) {
                try await client.send("EVAL", "return redis.error_reply('MYAPP something failed')", 0)
            }
            await expectRedisError(.server(ServerErrorKind(rawValue: "alone"))) {
                try await client.send("EVAL", "return {err = 'alone'}", 0)
            }
            await expectRedisError(.server(.unknown)) {
                try await client.send("EVAL", "return redis.error_reply(' leading space')", 0)
            }
            await expectRedisError(.server(.unknown)) {
                try await client.send("EVAL", "return {err = ''}", 0)
            }
        }
    }
}
