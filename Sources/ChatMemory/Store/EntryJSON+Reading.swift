import Foundation

extension EntryJSON {
    /// A parsed JSON value (integers only; anything else numeric is left to `JSONDecoder`).
    indirect enum Value {
        case string(String), integer(Int64), bool(Bool), null
        case array([Value]), object([(key: String, value: Value)])

        subscript(key: String) -> Value? {
            guard case .object(let members) = self else { return nil }
            return members.last { $0.key == key }?.value
        }

        var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }
    }

    /// Parses one JSON document; `nil` when it is malformed or uses what this reader leaves alone.
    static func parse(_ bytes: [UInt8]) -> Value? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard let value = reader.value() else { return nil }
            reader.skipSpace()
            return reader.position == buffer.count ? value : nil
        }
    }

    /// A message from its parsed JSON form, following the rules of `ChatMessage.init(from:)`;
    /// `nil` sends the caller to the `JSONDecoder` path.
    static func message(from value: Value) -> ChatMessage? {
        guard case .object = value, let id = value["id"]?.string,
              let role = value["role"]?.string.flatMap(ChatMessage.Role.init(rawValue:)) else { return nil }
        guard let content = optionalString(value["content"]), let name = optionalString(value["name"]),
              let toolCallID = optionalString(value["tool_call_id"]) else { return nil }
        var createdAt = Date(timeIntervalSince1970: 0)
        switch value["created_at"] {
        case .integer(let ms): createdAt = ChatMessage.date(unixMilliseconds: ms)
        case nil, .null?: break
        default: return nil
        }
        var metadata: [String: String] = [:]
        switch value["metadata"] {
        case .object(let members)?:
            for member in members {
                guard let text = member.value.string else { return nil }
                metadata[member.key] = text
            }
        case nil, .null?: break
        default: return nil
        }
        var toolCalls: [ChatMessage.ToolCall] = []
        switch value["tool_calls"] {
        case .array(let items)?:
            for item in items {
                guard case .object = item, let callID = optionalString(item["id"]), let callName = optionalString(item["name"]),
                      let arguments = optionalString(item["arguments"]) else { return nil }
                toolCalls.append(ChatMessage.ToolCall(id: callID ?? "", name: callName ?? "", arguments: arguments ?? ""))
            }
        case nil, .null?: break
        default: return nil
        }
        return ChatMessage(id: id, role: role, content: content, name: name, toolCalls: toolCalls,
                           toolCallID: toolCallID, metadata: metadata, createdAt: createdAt)
    }

    /// `.some(nil)` for an absent or null value, `.some(text)` for a string, `nil` for anything else.
    private static func optionalString(_ value: Value?) -> String?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .string(let text)?: return .some(text)
        default: return nil
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        var depth = 0

        mutating func skipSpace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func value() -> Value? {
            skipSpace()
            guard position < bytes.count, depth < 64 else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "{"): return object()
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string().map(Value.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            default: return integer()
            }
        }

        private mutating func literal(_ word: StaticString, _ value: Value) -> Value? {
            let length = word.utf8CodeUnitCount
            guard position + length <= bytes.count else { return nil }
            for index in 0..<length where bytes[position + index] != word.utf8Start[index] { return nil }
            position += length
            return value
        }

        private mutating func integer() -> Value? {
            let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            let digits = position
            var magnitude: Int64 = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                magnitude = magnitude * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                position += 1
            }
            // At most 18 digits cannot overflow; fractions and exponents are left to JSONDecoder.
            guard position > digits, position - digits <= 18 else { return nil }
            if position < bytes.count {
                switch bytes[position] {
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
                default: break
                }
            }
            return .integer(negative ? -magnitude : magnitude)
        }

        private mutating func object() -> Value? {
            position += 1
            depth += 1
            defer { depth -= 1 }
            var members: [(key: String, value: Value)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
                position += 1
                guard let value = value() else { return nil }
                members.append((key, value))
                skipSpace()
                guard position < bytes.count else { return nil }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                guard bytes[position] == UInt8(ascii: "}") else { return nil }
                position += 1
                return .object(members)
            }
        }

        private mutating func array() -> Value? {
            position += 1
            depth += 1
            defer { depth -= 1 }
            var items: [Value] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                guard let item = value() else { return nil }
                items.append(item)
                skipSpace()
                guard position < bytes.count else { return nil }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                guard bytes[position] == UInt8(ascii: "]") else { return nil }
                position += 1
                return .array(items)
            }
        }

        /// A string at `position` (which holds its opening quote); `nil` on any irregularity,
        /// including escapes other than the common ones and bytes that are not UTF-8.
        private mutating func string() -> String? {
            position += 1
            let start = position
            var unescaped: [UInt8]?
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    if let unescaped { return String(validating: unescaped, as: UTF8.self) }
                    return String(validating: raw, as: UTF8.self)
                }
                if byte < 0x20 { return nil }
                if byte == UInt8(ascii: "\\") {
                    if unescaped == nil { unescaped = Array(UnsafeBufferPointer(rebasing: bytes[start..<position])) }
                    guard position + 1 < bytes.count else { return nil }
                    let escape = bytes[position + 1]
                    position += 2
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped!.append(escape)
                    case UInt8(ascii: "n"): unescaped!.append(0x0A)
                    case UInt8(ascii: "r"): unescaped!.append(0x0D)
                    case UInt8(ascii: "t"): unescaped!.append(0x09)
                    case UInt8(ascii: "b"): unescaped!.append(0x08)
                    case UInt8(ascii: "f"): unescaped!.append(0x0C)
                    case UInt8(ascii: "u"):
                        // Only escapes of ASCII control characters; anything else goes to JSONDecoder.
                        guard position + 4 <= bytes.count,
                              let code = UInt8(String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<position + 4]), as: UTF8.self), radix: 16),
                              code < 0x80 else { return nil }
                        unescaped!.append(code)
                        position += 4
                    default: return nil
                    }
                    continue
                }
                unescaped?.append(byte)
                position += 1
            }
            return nil
        }
    }
}
