@testable import ChatMemoryRedis
import Testing

/// Commands encoded as RESP arrays of bulk strings, byte for byte.
@Suite struct RESPEncodingTests {
    /// The encoding spelled out the slow way, for comparison.
    static func reference(_ commands: [RedisCommand]) -> [UInt8] {
        commands.flatMap { command in
            Array("*\(command.arguments.count)\r\n".utf8) + command.arguments.flatMap { Array("$\($0.count)\r\n".utf8) + $0 + [13, 10] }
        }
    }

    @Test func oneCommandIsAnArrayOfBulkStrings() {
        #expect(RESPEncoding.encode([RedisCommand("LRANGE", "chat:a", 0, 49)]) == Array("*4\r\n$6\r\nLRANGE\r\n$6\r\nchat:a\r\n$1\r\n0\r\n$2\r\n49\r\n".utf8))
    }

    @Test func lengthsAcrossEveryDigitCountAndEmptyArgumentsAreExact() {
        // Empty, and each side of every power of ten up to a million bytes; any byte, NUL and
        // CR LF included.
        var sizes = [0]
        var power = 1
        while power <= 1_000_000 {
            sizes += [power - 1, power, power + 1]
            power *= 10
        }
        let arguments = sizes.map { size in (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) } }
        let command = RedisCommand(arguments: arguments)
        let encoded = RESPEncoding.encode([command])
        #expect(encoded == Self.reference([command]))
    }

    @Test func aPipelineIsItsCommandsOneAfterAnother() {
        let many = (0..<12).map { RedisCommand(arguments: Array(repeating: [UInt8(ascii: "x")], count: $0 + 1)) }
        #expect(RESPEncoding.encode(many) == Self.reference(many))
        #expect(RESPEncoding.digits(0) == 1 && RESPEncoding.digits(9) == 1 && RESPEncoding.digits(10) == 2 && RESPEncoding.digits(Int.max) == 19)
    }
}
