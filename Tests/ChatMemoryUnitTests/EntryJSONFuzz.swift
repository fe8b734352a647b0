import Foundation
@testable import ChatMemory
import TestSupport

/// Byte strings that matter for the entry reader: entries from the writer, entries built by hand
/// with every odd choice a person with redis-cli could make, and both mutated.
struct EntryFuzzer {
    var random: SplitMix64

    /// Case `index` of the run with `seed`: each case has its own generator.
    init(seed: UInt64, index: Int) {
        var mixer = SplitMix64(seed: seed ^ (UInt64(index) &* 0xD6E8_FEB8_6659_FD93))
        random = SplitMix64(seed: mixer.next())
    }

    mutating func input() -> [UInt8] {
        var bytes = chance(0.3) ? writerEntry() : emit(entryNode())
        if chance(0.35) {
            for _ in 0..<int(1...3) { mutate(&bytes) }
        }
        if chance(0.05) {
            bytes = reencoded(bytes)
            if chance(0.3) { mutate(&bytes) }
        }
        return bytes
    }

    // MARK: Choices

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    static let pieces = ["a", "Z", "id", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{8}", "\u{c}", "\u{1f}", "\u{7f}",
                         "é", "e\u{301}", "漢", "🧪", "👩‍👩‍👧", "\u{2028}", "\u{FFFF}", "\u{FEFF}", "{", "}", "[", ":", ",", "null"]

    mutating func text(maxLength: Int = 8) -> String {
        (0..<int(0...maxLength)).map { _ in pick(Self.pieces) }.joined()
    }

    /// Escapes and bytes that a string can hold, valid or not.
    static let hostileStringParts: [[UInt8]] = [
        #"\u+07f"#, #"\u-000"#, #"\uD800"#, #"\uDC00"#, #"\uDC00\uD800"#, #"\uD800\u0041"#, #"\uD800\uD800"#,
        #"\uD83D\uDE00"#, #"\ud83e\uddea"#, #"\u00e9"#, #"\u00E9"#, #"\u0000"#, #"\u007f"#, #"\u0075"#, #"\uFFFF"#,
        #"\u 12f"#, #"\u12"#, #"\q"#, #"\x41"#, #"\'"#, #"\/"#, #"\""#, #"\\"#, #"\"#, "\\\u{7f}",
    ].map { Array($0.utf8) } + [
        [0x5C, 0xC3, 0xA9], [0x01], [0x1F], [0x00], [0x7F], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0x80], [0xE2, 0x82], [0xC3, 0xA9], [0xF0, 0x9F, 0xA7, 0xAA], [0xEF, 0xBB, 0xBF],
    ]

    /// Numbers in every form, well-formed for JSON or only for `JSONDecoder`'s lax scan.
    static let numbers = [
        "0", "-0", "7", "42", "-7", "012", "-01", "00", "-00", "0.0", "-0.0", "1e5", "1E5", "1.0", "1E+2", "1e-2", "100e-2",
        "5e18", "5e19", "9.2e18", "0.5", "1.5e3", "1.0000000000000001", "123456789012345678", "-123456789012345678",
        "1234567890123456789", "99999999999999999999", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "1700000000123", "-1700000000123", "1700000000123.6", "1.5e400", "1e-400", "1e308", "1-2", "1e5e5", "1..2", "--1",
        "-", "1.", "1e", "1e+", "-e", "0x10", ".5", "+1", "1 2", "Infinity", "NaN",
    ]

    // MARK: Entries

    mutating func writerEntry() -> [UInt8] {
        let message = randomMessage()
        if chance(0.2), let json = try? message.jsonData() { return Array(json) }
        return StoredEntry.encode(message, tokens: chance(0.5) ? int(0...5_000) : int(Int.min...Int.max), counter: text()).bytes
    }

    mutating func randomMessage() -> ChatMessage {
        let calls = (0..<int(0...2)).map { _ in ChatMessage.ToolCall(id: text(), name: text(), arguments: text()) }
        var metadata: [String: String] = [:]
        for _ in 0..<int(0...3) { metadata[text()] = text() }
        let content: String? = chance(0.2) ? nil : chance(0.2) ? "" : text(maxLength: 30)
        return ChatMessage(
            id: text() + "x", role: pick(ChatMessage.Role.allCases), content: content,
            name: chance(0.5) ? text() : nil, toolCalls: calls, toolCallID: chance(0.5) ? text() : nil,
            metadata: metadata, createdAt: Date(timeIntervalSince1970: Double.random(in: -1e9...4e9, using: &random)))
    }

    /// A JSON value to write out: `raw` goes out as it is.
    indirect enum Node {
        case raw([UInt8]), text(String), array([Node]), object([(key: Node, value: Node)])

        static func raw(_ text: String) -> Node { .raw(Array(text.utf8)) }
    }

    mutating func entryNode() -> Node {
        if chance(0.3) { return compactNode() }
        var message = messageMembers()
        if chance(0.25) { return object(message) }
        var members: [(key: Node, value: Node)] = []
        if chance(0.9) { members.append((.text("id"), chance(0.8) ? stringish() : anyValue(depth: 1))) }
        if chance(0.8) { members.append((.text("v"), .raw("1"))) }
        if chance(0.85) { members.append((.text("tokens"), chance(0.6) ? .raw(String(int(0...9_999))) : numberish())) }
        if chance(0.85) { members.append((.text("counter"), stringish())) }
        if chance(0.1) { message.append((.text("message"), .raw("1"))) }
        members.append((.text("message"), chance(0.95) ? object(message) : anyValue(depth: 1)))
        if chance(0.1) { members.shuffle(using: &random) }
        return object(members)
    }

    /// The compact form, or something near it: elements missing, added or of other types.
    mutating func compactNode() -> Node {
        var items: [Node] = []
        items.append(chance(0.9) ? stringish() : anyValue(depth: 1))
        let count: Node = chance(0.6) ? .raw(String(int(0...9_999))) : chance(0.5) ? object([(stringish(), .raw(String(int(0...99))))])
            : chance(0.5) ? numberish() : anyValue(depth: 1)
        items.append(count)
        items.append(chance(0.85) ? .text(pick(ChatMessage.Role.allCases).rawValue) : anyValue(depth: 1))
        items.append(chance(0.2) ? .raw("null") : stringish())
        items.append(chance(0.7) ? .raw(String(int(-9_999_999_999_999...9_999_999_999_999))) : numberish())
        if chance(0.5) { items.append(chance(0.9) ? object(messageMembers()) : anyValue(depth: 1)) }
        if chance(0.1) { items.removeLast() }
        if chance(0.05) { items.append(anyValue(depth: 1)) }
        return .array(items)
    }

    mutating func messageMembers() -> [(key: Node, value: Node)] {
        var members: [(key: Node, value: Node)] = []
        if chance(0.95) { members.append((.text("id"), chance(0.9) ? stringish() : anyValue(depth: 2))) }
        if chance(0.95) {
            let role: Node = chance(0.85) ? .text(pick(ChatMessage.Role.allCases).rawValue)
                : chance(0.5) ? .text(pick(["wizard", "User", "user ", ""])) : anyValue(depth: 2)
            members.append((.text("role"), role))
        }
        for key in ["content", "name", "tool_call_id"] where chance(0.6) {
            members.append((.text(key), chance(0.15) ? .raw("null") : stringish()))
        }
        if chance(0.7) { members.append((.text("created_at"), chance(0.5) ? .raw(String(int(-9_999_999_999_999...9_999_999_999_999))) : numberish())) }
        if chance(0.3) { members.append((.text("metadata"), chance(0.8) ? metadata() : anyValue(depth: 2))) }
        if chance(0.3) { members.append((.text("tool_calls"), chance(0.8) ? toolCalls() : anyValue(depth: 2))) }
        for _ in 0..<(chance(0.3) ? int(1...3) : 0) {
            members.append((.text(pick(["x", "extra", "v", "message", "tokens", text()])), anyValue(depth: 2)))
        }
        if chance(0.15) { members.shuffle(using: &random) }
        return members
    }

    mutating func metadata() -> Node {
        var members: [(key: Node, value: Node)] = []
        for _ in 0..<int(0...4) { members.append((chance(0.9) ? .text(text()) : hostileString(), chance(0.9) ? stringish() : anyValue(depth: 3))) }
        if chance(0.1) { members.append((.text("é"), .text("nfc"))); members.append((.text("e\u{301}"), .text("nfd"))) }
        return object(members)
    }

    mutating func toolCalls() -> Node {
        .array((0..<int(0...3)).map { _ in
            guard chance(0.9) else { return anyValue(depth: 3) }
            var fields: [(key: Node, value: Node)] = []
            for key in ["id", "name", "arguments"] where chance(0.8) {
                fields.append((.text(key), chance(0.9) ? stringish() : anyValue(depth: 4)))
            }
            return object(fields)
        })
    }

    /// An object, sometimes with a key repeated (spelled the same or escaped differently when written).
    mutating func object(_ members: [(key: Node, value: Node)]) -> Node {
        var members = members
        if chance(0.06), let repeated = members.randomElement(using: &random) {
            members.insert((repeated.key, chance(0.5) ? repeated.value : anyValue(depth: 3)), at: int(0...members.count))
        }
        return .object(members)
    }

    mutating func stringish() -> Node { chance(0.85) ? .text(text(maxLength: 12)) : hostileString() }

    /// A string with raw escapes and bytes in it that `JSONDecoder` may refuse to read.
    mutating func hostileString() -> Node {
        var bytes: [UInt8] = [0x22]
        for _ in 0..<int(1...4) {
            bytes += chance(0.5) ? Array(text(maxLength: 3).utf8.filter { $0 != 0x22 && $0 != 0x5C }) : pick(Self.hostileStringParts)
        }
        return .raw(bytes + [0x22])
    }

    mutating func numberish() -> Node {
        chance(0.15) ? .raw(String(repeating: "9", count: int(15...25))) : .raw(pick(Self.numbers))
    }

    mutating func anyValue(depth: Int) -> Node {
        if chance(0.01) { return deepValue() }
        switch int(0...9) {
        case 0: return .raw(pick(["null", "true", "false"]))
        case 1, 2: return numberish()
        case 3, 4: return stringish()
        case 5: return hostileString()
        case 6...7 where depth < 6: return .array((0..<int(0...3)).map { _ in anyValue(depth: depth + 1) })
        case 8...9 where depth < 6:
            return object((0..<int(0...3)).map { _ in (chance(0.9) ? .text(text(maxLength: 3)) : hostileString(), anyValue(depth: depth + 1)) })
        default: return .raw("null")
        }
    }

    /// Nesting around `JSONDecoder`'s limit of 512 levels, sometimes with a repeated key at the bottom.
    mutating func deepValue() -> Node {
        var node: Node = chance(0.3) ? .object([(.text("k"), .raw("1")), (.text("k"), .raw("2"))]) : .raw("0")
        for _ in 0..<int(505...515) {
            node = chance(0.5) ? .array([node]) : .object([(.text("d"), node)])
        }
        return node
    }

    // MARK: Writing

    mutating func emit(_ node: Node) -> [UInt8] {
        var out: [UInt8] = []
        space(&out)
        emit(node, into: &out)
        space(&out)
        return out
    }

    mutating func space(_ out: inout [UInt8]) {
        guard chance(0.15) else { return }
        for _ in 0..<int(1...2) { out += pick([" ", "\t", "\n", "\r\n", "  "]).utf8 }
    }

    mutating func emit(_ node: Node, into out: inout [UInt8]) {
        switch node {
        case .raw(let bytes): out += bytes
        case .text(let text): emitString(text, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space(&out); emit(item, into: &out); space(&out)
            }
            if !items.isEmpty && chance(0.03) { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space(&out); emit(member.key, into: &out); space(&out)
                out.append(UInt8(ascii: ":"))
                space(&out); emit(member.value, into: &out); space(&out)
            }
            if !members.isEmpty && chance(0.03) { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A well-formed JSON string, each scalar written raw or escaped in one of the allowed ways.
    mutating func emitString(_ text: String, into out: inout [UInt8]) {
        let escapeOften = chance(0.2)
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += #"\""#.utf8
            case "\\": out += #"\\"#.utf8
            case "/" where chance(0.3): out += #"\/"#.utf8
            case "\n" where chance(0.7): out += #"\n"#.utf8
            case "\t" where chance(0.7): out += #"\t"#.utf8
            case _ where scalar.value < 0x20 || (escapeOften && chance(0.5)):
                if scalar.value > 0xFFFF {
                    for unit in String(scalar).utf16 { hexEscape(unit, into: &out) }
                } else {
                    hexEscape(UInt16(scalar.value), into: &out)
                }
            default: out += String(scalar).utf8
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    static let lowerHex = Array("0123456789abcdef".utf8), upperHex = Array("0123456789ABCDEF".utf8)

    mutating func hexEscape(_ unit: UInt16, into out: inout [UInt8]) {
        let digits = chance(0.5) ? Self.lowerHex : Self.upperHex
        out += #"\u"#.utf8
        for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int(unit >> UInt16(shift) & 0xF)]) }
    }

    // MARK: Mutations

    static let tokens: [[UInt8]] = hostileStringParts + (numbers + [
        "\"", "\\", ",", ":", "{", "}", "[", "]", "{}", "[]", ",}", ",]", "null", "true", " ", "\t", "\r\n",
        #""id":"k2","#, #","id":"k2""#, #""role":"user","#, #""content":null,"#, #""tokens":012,"#, #""created_at":-01,"#,
    ]).map { Array($0.utf8) }

    mutating func mutate(_ bytes: inout [UInt8]) {
        let position = int(0...bytes.count)
        switch int(0...5) {
        case 0 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] = chance(0.5) ? UInt8.random(in: 0...255, using: &random) : pick(Array(#""\{}[],:-0e.u"#.utf8))
        case 1: bytes.insert(contentsOf: pick(Self.tokens), at: position)
        case 2: bytes.removeSubrange(position..<min(bytes.count, position + int(1...8)))
        case 3 where !bytes.isEmpty:
            // Repeats a stretch elsewhere: a way to repeat a key with its value.
            let start = int(0...bytes.count - 1)
            let stretch = Array(bytes[start..<min(bytes.count, start + int(1...24))])
            bytes.insert(contentsOf: stretch, at: position)
        case 4: bytes.removeSubrange(position...)
        default: bytes.insert(pick(Array(#" "\,:{}[]0-eu"#.utf8)), at: position)
        }
    }

    /// The same text in another encoding `JSONDecoder` accepts, or a byte order mark in front.
    mutating func reencoded(_ bytes: [UInt8]) -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        let boms: [[UInt8]] = [[], [0xEF, 0xBB, 0xBF], [0xFE, 0xFF], [0xFF, 0xFE], [0, 0, 0xFE, 0xFF], [0xFE, 0xFF, 0, 0], [0xFF, 0xFE, 0, 0]]
        switch int(0...5) {
        case 0: return [0xEF, 0xBB, 0xBF] + bytes
        case 1: return pick(boms) + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        case 2: return pick(boms) + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case 3: return pick(boms) + text.unicodeScalars.flatMap { scalar in (0..<4).reversed().map { UInt8(scalar.value >> ($0 * 8) & 0xFF) } }
        case 4: return pick(boms) + text.unicodeScalars.flatMap { scalar in (0..<4).map { UInt8(scalar.value >> ($0 * 8) & 0xFF) } }
        default: return pick(boms) + bytes
        }
    }
}
