extension EntryJSON {
    /// Why ``Parser`` stops.
    enum ParseFailure: Error {
        /// Not JSON by `JSONDecoder`'s own scan.
        case malformed
    }

    /// The byte-level grammar of `JSONDecoder`'s scanner (swift-foundation), which is lax in
    /// places: trailing commas are allowed, a number is any run of `0-9 . + - e E` that starts with
    /// `-` or a digit, and a string only has to end: its escapes, control characters and UTF-8 are
    /// checked when it is read, not when it is scanned. Strings are read here as `JSONDecoder`
    /// reads them (into `.badString` when it would refuse them); only plain integers are read.
    struct Parser {
        /// `JSONDecoder` refuses a 513th nested array or object.
        static let maxDepth = 512

        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var depth = 0
        /// Set when an object repeats a key (compared as Swift strings after unescaping).
        var sawDuplicateKey = false

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// The whole input as one value, with nothing but whitespace after it.
        mutating func document() throws(ParseFailure) -> Value {
            let value = try value()
            skipSpace()
            guard position == bytes.count else { throw .malformed }
            return value
        }

        private mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        /// The byte at `position` after whitespace; end of input is malformed.
        private mutating func nextByte() throws(ParseFailure) -> UInt8 {
            skipSpace()
            guard position < bytes.count else { throw .malformed }
            return bytes[position]
        }

        private mutating func value() throws(ParseFailure) -> Value {
            switch try nextByte() {
            case UInt8(ascii: "\""): return try string()
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: throw .malformed
            }
        }

        private mutating func literal(_ word: StaticString) throws(ParseFailure) {
            let length = word.utf8CodeUnitCount
            guard bytes.count - position >= length else { throw .malformed }
            for index in 0..<length where bytes[position + index] != word.utf8Start[index] { throw .malformed }
            position += length
        }

        /// Scans like `JSONDecoder` and keeps the value when it is a plain integer of at most 18
        /// digits (`-?(0|[1-9][0-9]*)`, which cannot overflow); anything else is `.number`.
        private mutating func number() -> Value {
            let start = position
            position += 1
            scan: while position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "+"), UInt8(ascii: "-"),
                     UInt8(ascii: "e"), UInt8(ascii: "E"):
                    position += 1
                default: break scan
                }
            }
            let negative = bytes[start] == UInt8(ascii: "-")
            let digits = negative ? start + 1 : start
            let count = position - digits
            guard count >= 1, count <= 18, count == 1 || bytes[digits] != UInt8(ascii: "0") else { return .number }
            var magnitude: Int64 = 0
            for index in digits..<position {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return .number }
                magnitude = magnitude * 10 + Int64(digit)
            }
            return .integer(negative ? -magnitude : magnitude)
        }

        private mutating func array() throws(ParseFailure) -> Value {
            guard depth < Self.maxDepth else { throw .malformed }
            depth += 1
            defer { depth -= 1 }
            position += 1
            var items: [Value] = []
            if try nextByte() == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try value())
                switch try nextByte() {
                case UInt8(ascii: "]"): position += 1; return .array(items)
                case UInt8(ascii: ","):
                    position += 1
                    if try nextByte() == UInt8(ascii: "]") { position += 1; return .array(items) }
                default: throw .malformed
                }
            }
        }

        private mutating func object() throws(ParseFailure) -> Value {
            guard depth < Self.maxDepth else { throw .malformed }
            depth += 1
            defer { depth -= 1 }
            position += 1
            var members: [Member] = []
            // Past a few members, keys are checked for repeats through a set instead of a scan.
            var keys: Set<String>?
            if try nextByte() == UInt8(ascii: "}") { position += 1; return .object(members) }
            members.reserveCapacity(8)
            while true {
                guard bytes[position] == UInt8(ascii: "\"") else { throw .malformed }
                let key = try string().string
                guard try nextByte() == UInt8(ascii: ":") else { throw .malformed }
                position += 1
                let value = try value()
                if let key {
                    if members.count < 16 {
                        if members.contains(where: { $0.key == key }) { sawDuplicateKey = true }
                    } else {
                        if keys == nil { keys = Set(members.lazy.compactMap(\.key)) }
                        if keys?.insert(key).inserted == false { sawDuplicateKey = true }
                    }
                }
                members.append(Member(key: key, value: value))
                switch try nextByte() {
                case UInt8(ascii: "}"): position += 1; return .object(members)
                case UInt8(ascii: ","):
                    position += 1
                    if try nextByte() == UInt8(ascii: "}") { position += 1; return .object(members) }
                default: throw .malformed
                }
            }
        }

        /// A string at `position` (its opening quote): `.string` with its text, or `.badString`
        /// when `JSONDecoder` would refuse to read it.
        private mutating func string() throws(ParseFailure) -> Value {
            position += 1
            let start = position
            // The bits of every byte so far: below 0x80, the text is ASCII and needs no validation.
            var bits: UInt8 = 0
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return Self.text(UnsafeBufferPointer(rebasing: bytes[start..<position - 1]), isASCII: bits < 0x80)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return try escapedString(from: start, bits: bits) }
                bits |= byte
                position += 1
            }
            throw .malformed
        }

        /// The rest of a string with escapes (or control characters) in it, from its first byte
        /// at `start`; `position` is at the first escape or control character.
        private mutating func escapedString(from start: Int, bits: UInt8) throws(ParseFailure) -> Value {
            var bits = bits
            // The unescaped UTF-8, or nil once the string is known to be unreadable.
            var text: [UInt8]? = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
            var runStart = position
            // A high surrogate waiting for its low half, which must be the very next escape.
            var highSurrogate: UInt16?
            while position < bytes.count {
                let byte = bytes[position]
                guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else {
                    bits |= byte
                    position += 1
                    continue
                }
                if position > runStart {
                    if highSurrogate != nil { text = nil }
                    text?.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
                }
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    guard highSurrogate == nil, let text else { return .badString }
                    return text.withUnsafeBufferPointer { Self.text($0, isASCII: bits < 0x80) }
                }
                if byte < 0x20 {
                    text = nil
                    position += 1
                    runStart = position
                    continue
                }
                guard position + 1 < bytes.count else { throw .malformed }
                let escape = bytes[position + 1]
                position += 2
                if escape == UInt8(ascii: "u") {
                    // The scanner wants four more bytes, none of them a quote; the reader, hex digits.
                    guard bytes.count - position >= 4 else { throw .malformed }
                    var unit: UInt16? = 0
                    for index in position..<position + 4 {
                        guard bytes[index] != UInt8(ascii: "\"") else { throw .malformed }
                        unit = Self.hexDigit(bytes[index]).flatMap { digit in unit.map { $0 << 4 | digit } }
                    }
                    position += 4
                    if unit ?? 0 >= 0x80 { bits |= 0x80 }
                    Self.append(unit, after: &highSurrogate, to: &text)
                } else {
                    if highSurrogate != nil { text = nil }
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text?.append(escape)
                    case UInt8(ascii: "n"): text?.append(0x0A)
                    case UInt8(ascii: "r"): text?.append(0x0D)
                    case UInt8(ascii: "t"): text?.append(0x09)
                    case UInt8(ascii: "b"): text?.append(0x08)
                    case UInt8(ascii: "f"): text?.append(0x0C)
                    default: text = nil
                    }
                }
                runStart = position
            }
            throw .malformed
        }

        /// Adds the UTF-16 code unit of a `\u` escape to `text`, pairing surrogates the way
        /// `JSONDecoder` does; `text` becomes nil when the escape makes the string unreadable.
        private static func append(_ unit: UInt16?, after highSurrogate: inout UInt16?, to text: inout [UInt8]?) {
            guard text != nil, let unit else { text = nil; return }
            let scalar: Unicode.Scalar?
            if let high = highSurrogate {
                highSurrogate = nil
                guard UTF16.isTrailSurrogate(unit) else { text = nil; return }
                scalar = Unicode.Scalar(0x10000 + (UInt32(high - 0xD800) << 10 | UInt32(unit - 0xDC00)))
            } else if UTF16.isLeadSurrogate(unit) {
                highSurrogate = unit
                return
            } else {
                scalar = Unicode.Scalar(unit)
            }
            guard let scalar else { text = nil; return }
            text?.append(contentsOf: scalar.utf8)
        }

        private static func hexDigit(_ byte: UInt8) -> UInt16? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(byte - UInt8(ascii: "A") + 10)
            default: nil
            }
        }

        private static func text(_ utf8: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> Value {
            // Validating is generic (and slow) in the standard library; ASCII needs none.
            if isASCII { return .string(String(decoding: utf8, as: UTF8.self)) }
            return String(validating: utf8, as: UTF8.self).map(Value.string) ?? .badString
        }
    }
}
