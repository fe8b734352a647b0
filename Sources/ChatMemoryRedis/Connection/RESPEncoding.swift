/// Commands as the bytes Redis reads: an array of bulk strings (`*<count>\r\n`, then
/// `$<length>\r\n<bytes>\r\n` per argument), built in one buffer with one copy of each argument.
enum RESPEncoding {
    /// The commands one after another, as one write. Commands without arguments are refused
    /// before they get here.
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        var size = 0
        for command in commands {
            size += 16
            for argument in command.arguments { size += argument.count + 24 }
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(size)
        for command in commands {
            buffer.append(UInt8(ascii: "*"))
            appendDecimal(command.arguments.count, to: &buffer)
            buffer.append(contentsOf: [13, 10])
            for argument in command.arguments {
                buffer.append(UInt8(ascii: "$"))
                appendDecimal(argument.count, to: &buffer)
                buffer.append(contentsOf: [13, 10])
                buffer.append(contentsOf: argument)
                buffer.append(contentsOf: [13, 10])
            }
        }
        return buffer
    }

    /// Appends a non-negative count in decimal digits.
    private static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        if value < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value))
            return
        }
        // Int.max has 19 digits: 24 bytes hold any count.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = UInt64(value)
        withUnsafeMutableBytes(of: &digits) { raw in
            while rest > 0 {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
                count += 1
            }
            buffer.append(contentsOf: raw[(24 - count)...])
        }
    }
}
