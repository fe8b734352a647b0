/// Commands as the bytes Redis reads: an array of bulk strings (`*<count>\r\n`, then
/// `$<length>\r\n<bytes>\r\n` per argument), built in one buffer, reserved before it is filled,
/// with one copy of each argument.
enum RESPEncoding {
    /// The commands one after another, as one write. Commands without arguments are refused
    /// before they get here.
    static func encode(_ commands: [RedisCommand]) -> [UInt8] {
        // At most: a header of 22 bytes (a marker, 19 digits, CRLF) per command and argument,
        // and each argument's bytes and CRLF.
        var size = 0
        for command in commands {
            size += 22
            for argument in command.arguments { size += argument.count + 24 }
        }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(size)
        for command in commands {
            appendHeader(UInt8(ascii: "*"), command.arguments.count, to: &encoded)
            for argument in command.arguments {
                appendHeader(UInt8(ascii: "$"), argument.count, to: &encoded)
                encoded.append(contentsOf: argument)
                encoded.append(13)
                encoded.append(10)
            }
        }
        return encoded
    }

    /// `*<count>\r\n` or `$<count>\r\n`, appended in one piece.
    private static func appendHeader(_ marker: UInt8, _ count: Int, to encoded: inout [UInt8]) {
        // A marker, Int.max's 19 digits and CRLF fit in 24 bytes.
        var header: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &header) { raw in
            let width = digits(count)
            raw[0] = marker
            var rest = count
            for place in stride(from: width, through: 1, by: -1) {
                raw[place] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            raw[width + 1] = 13
            raw[width + 2] = 10
            encoded.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[..<(width + 3)]))
        }
    }

    /// How many decimal digits a non-negative count has.
    static func digits(_ value: Int) -> Int {
        var width = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            width += 1
        }
        return width
    }
}
