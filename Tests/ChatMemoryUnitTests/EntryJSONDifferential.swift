import Foundation
@testable import ChatMemory

/// The judge of the fuzz test: what `StoredEntry.decode` must return for a byte string, from
/// `JSONDecoder` alone plus an independent search for repeated keys.
enum EntryJSONDifferential {
    /// What one input showed.
    struct Outcome {
        var problems: [String] = []
        var scanned = false
        var decoded = false
        var duplicateKey = false
    }

    static func check(_ bytes: [UInt8]) -> Outcome {
        var outcome = Outcome()
        let parsed = EntryJSON.parse(bytes)
        let ours = StoredEntry.decode(bytes)
        // JSONDecoder traps when the array that passes its depth limit opens on the last byte
        // (`[` repeated 513 times). A text ending in `[` is malformed anyway: nothing to ask it.
        let utf8 = utf8Representation(of: bytes)
        let crashesFoundation = utf8?.last == UInt8(ascii: "[")
        outcome.scanned = !crashesFoundation && foundationScans(bytes)
        outcome.duplicateKey = outcome.scanned && utf8.map(hasDuplicateKey) == true
        let foundation = crashesFoundation ? nil : StoredEntry.decodedWithFoundation(bytes)
        let expected = outcome.duplicateKey ? nil : foundation
        outcome.decoded = expected != nil

        switch parsed {
        case .malformed where outcome.scanned: outcome.problems.append("parse calls it malformed; JSONDecoder scans it")
        case .value where !outcome.scanned, .duplicateKey where !outcome.scanned:
            outcome.problems.append("parse accepts it; JSONDecoder does not scan it")
        case .duplicateKey where !outcome.duplicateKey: outcome.problems.append("parse sees a repeated key; the oracle does not")
        case .value where outcome.duplicateKey: outcome.problems.append("parse misses a repeated key")
        default: break
        }
        if !same(ours, expected) {
            outcome.problems.append("decode gives \(describe(ours)); expected \(describe(expected)) "
                + "(JSONDecoder: \(describe(foundation)), repeated key: \(outcome.duplicateKey))")
        }
        return outcome
    }

    /// Whether `JSONDecoder` scans `bytes` as JSON (decoding a type that reads nothing).
    static func foundationScans(_ bytes: [UInt8]) -> Bool {
        (try? JSONDecoder().decode(ReadsNothing.self, from: Data(bytes))) != nil
    }

    private struct ReadsNothing: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    /// Same message, tokens and counter, to the Unicode scalar.
    static func same(_ left: StoredEntry.Decoded?, _ right: StoredEntry.Decoded?) -> Bool {
        guard let left, let right else { return left == nil && right == nil }
        return left.message == right.message && left.tokens == right.tokens && left.summary == right.summary
            && scalars(left.counter) == scalars(right.counter) && fields(of: left.message) == fields(of: right.message)
    }

    static func scalars(_ text: String?) -> [UInt32] {
        text.map { $0.unicodeScalars.map(\.value) } ?? [UInt32.max]
    }

    /// Every field as Unicode scalars, metadata in scalar order (String's `<` is no total order:
    /// neither `"e\u{301}" < "\u{e9}x"` nor the reverse holds, so sorting by it depends on the
    /// dictionary's order).
    static func fields(of message: ChatMessage) -> [[UInt32]] {
        let milliseconds = ChatMessage.unixMilliseconds(message.createdAt)
        var fields = [scalars(message.id), scalars(message.role.rawValue), scalars(message.content), scalars(message.name),
                      scalars(message.toolCallID), [UInt32(truncatingIfNeeded: milliseconds), UInt32(truncatingIfNeeded: milliseconds >> 32)],
                      [UInt32(message.toolCalls.count)]]
        for call in message.toolCalls { fields += [scalars(call.id), scalars(call.name), scalars(call.arguments)] }
        let metadata = message.metadata.map { [scalars($0.key), scalars($0.value)] }.sorted { $0[0].lexicographicallyPrecedes($1[0]) }
        return fields + metadata.flatMap { $0 }
    }

    static func describe(_ decoded: StoredEntry.Decoded?) -> String {
        guard let decoded else { return "nil" }
        let message = escaped(StoredEntry.encode(decoded.message, tokens: 0, counter: "").bytes)
        return "\(message) tokens \(decoded.tokens.map(String.init) ?? "nil") counter \(decoded.counter.map { "\"\(escaped(Array($0.utf8)))\"" } ?? "nil")"
    }

    /// The input as printable ASCII: `\\`, `\"` and `\xHH` for every other byte.
    static func escaped(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), byte]
            case 0x20...0x7E: out.append(byte)
            default: out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Repeated keys

    /// The UTF-8 text `JSONDecoder` scans for `bytes`; nil when it cannot convert them.
    static func utf8Representation(of bytes: [UInt8]) -> [UInt8]? {
        let (encoding, bomLength) = EntryJSON.sourceEncoding(of: bytes)
        if encoding == .utf8 { return Array(bytes[bomLength...]) }
        return String(bytes: bytes[bomLength...], encoding: encoding).map { Array($0.utf8) }
    }

    /// Whether an object anywhere in `utf8` (a text `JSONDecoder` scans) repeats a key: keys are
    /// read by `JSONDecoder` itself and compared as Swift strings; unreadable keys are skipped.
    static func hasDuplicateKey(_ utf8: [UInt8]) -> Bool {
        var walker = KeyWalker(bytes: utf8)
        walker.value()
        return walker.found
    }

    /// A walk over a document `JSONDecoder` scans, without validating it again.
    private struct KeyWalker {
        let bytes: [UInt8]
        var index = 0
        var found = false

        func byte() -> UInt8 { index < bytes.count ? bytes[index] : 0 }

        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

        mutating func skipSpace() {
            while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        }

        mutating func value() {
            skipSpace()
            switch byte() {
            case UInt8(ascii: "{"):
                index += 1
                var keys: Set<String> = []
                while index < bytes.count {
                    skipSpace()
                    if byte() == UInt8(ascii: "}") { index += 1; return }
                    if let key = Self.read(key: rawString()), !keys.insert(key).inserted { found = true }
                    skipSpace()
                    index += 1  // the colon
                    value()
                    skipSpace()
                    if byte() == UInt8(ascii: ",") { index += 1 }
                }
            case UInt8(ascii: "["):
                index += 1
                while index < bytes.count {
                    skipSpace()
                    if byte() == UInt8(ascii: "]") { index += 1; return }
                    value()
                    skipSpace()
                    if byte() == UInt8(ascii: ",") { index += 1 }
                }
            case UInt8(ascii: "\""): _ = rawString()
            default:
                // A literal or a number: up to the next delimiter.
                while index < bytes.count, !Self.isSpace(bytes[index]), bytes[index] != UInt8(ascii: ","),
                      bytes[index] != UInt8(ascii: "]"), bytes[index] != UInt8(ascii: "}") { index += 1 }
            }
        }

        /// The bytes between the quotes of the string at `index`.
        mutating func rawString() -> ArraySlice<UInt8> {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                if bytes[index] == UInt8(ascii: "\\") {
                    index += index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "u") ? 6 : 2
                } else {
                    index += 1
                }
            }
            defer { index += 1 }
            return bytes[start..<min(index, bytes.count)]
        }

        static func read(key raw: ArraySlice<UInt8>) -> String? {
            if raw.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) { return String(decoding: raw, as: UTF8.self) }
            // A space first, so the bytes cannot look like UTF-16 or UTF-32 to the decoder.
            return try? JSONDecoder().decode(String.self, from: Data([0x20, 0x22] + raw + [0x22]))
        }
    }
}
