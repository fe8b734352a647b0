import Foundation

extension EntryJSON {
    /// A parsed JSON value: strings and plain integers are read, any other number is left to
    /// `JSONDecoder`, and so is a string it would refuse to read (it only refuses such a string
    /// when it decodes it).
    indirect enum Value {
        case string(String)
        /// A string `JSONDecoder` refuses to read: an unknown escape, a `\u` escape that is not
        /// four hex digits, a lone surrogate, a control character or bytes that are not UTF-8.
        case badString
        /// `-?(0|[1-9][0-9]*)` with at most 18 digits.
        case integer(Int64)
        /// Any other number, well-formed (`1e5`, `1.0`, `-0.5`) or not (`012`, `1-2`).
        case number
        case bool(Bool), null
        case array([Value]), object([Member])

        subscript(key: String) -> Value? {
            guard case .object(let members) = self else { return nil }
            return members.first { $0.key == key }?.value
        }

        var string: String? {
            if case .string(let text) = self { return text }
            return nil
        }

        /// An object whose keys can all be read, as `JSONDecoder` requires of an object it decodes.
        var isReadableObject: Bool {
            guard case .object(let members) = self else { return false }
            return members.allSatisfy { $0.key != nil }
        }
    }

    struct Member {
        /// `nil` for a key `JSONDecoder` cannot read (see ``Value/badString``).
        let key: String?
        let value: Value
    }

    /// What ``parse(_:)`` makes of a byte string.
    enum Parsed {
        case value(Value)
        /// `JSONDecoder` rejects it too, whatever type it is asked to decode.
        case malformed
        /// Well-formed, but an object somewhere in it repeats a key.
        case duplicateKey
    }

    /// Parses one JSON document the way `JSONDecoder` scans it: the same encodings (UTF-8 with
    /// or without a byte order mark, UTF-16 and UTF-32, told apart by the same rules), the same
    /// grammar, the same depth limit.
    static func parse(_ bytes: [UInt8]) -> Parsed {
        bytes.withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// ``parse(_:)`` for bytes in memory.
    static func parse(buffer bytes: UnsafeBufferPointer<UInt8>) -> Parsed {
        let (encoding, bomLength) = sourceEncoding(of: bytes)
        if encoding == .utf8 { return parseUTF8(UnsafeBufferPointer(rebasing: bytes[bomLength...])) }
        guard var text = String(bytes: bytes[bomLength...], encoding: encoding) else { return .malformed }
        return text.withUTF8 { parseUTF8($0) }
    }

    private static func parseUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Parsed {
        var parser = Parser(bytes: bytes)
        do {
            let value = try parser.document()
            return parser.sawDuplicateKey ? .duplicateKey : .value(value)
        } catch {
            return .malformed
        }
    }

    /// The encoding `JSONDecoder` assumes for `bytes` and the length of the byte order mark it
    /// skips: its rules, in its order, including their oddities (`FE FF 00 00` is read as UTF-32
    /// little-endian, `FF FE 00 00` as UTF-16 little-endian).
    static func sourceEncoding<Bytes: RandomAccessCollection<UInt8>>(of bytes: Bytes) -> (encoding: String.Encoding, bomLength: Int) where Bytes.Index == Int {
        func byte(_ index: Int) -> UInt8? { index < bytes.count ? bytes[bytes.startIndex + index] : nil }
        switch (byte(0), byte(1), byte(2), byte(3)) {
        case (0, 0, 0xFE, 0xFF): return (.utf32BigEndian, 4)
        case (0xFE, 0xFF, 0, 0): return (.utf32LittleEndian, 4)
        case (0xFE, 0xFF, _, _): return (.utf16BigEndian, 2)
        case (0xFF, 0xFE, _, _): return (.utf16LittleEndian, 2)
        case (0xEF, 0xBB, 0xBF, _): return (.utf8, 3)
        case (0, 0, 0, let last?) where last != 0: return (.utf32BigEndian, 0)
        case (0, let first?, 0, let second?) where first != 0 && second != 0: return (.utf16BigEndian, 0)
        case (let first?, 0, 0, 0) where first != 0: return (.utf32LittleEndian, 0)
        case (let first?, 0, let second?, 0) where first != 0 && second != 0: return (.utf16LittleEndian, 0)
        case (0, let last?, nil, nil) where last != 0: return (.utf16BigEndian, 0)
        case (let first?, 0, nil, nil) where first != 0: return (.utf16LittleEndian, 0)
        default: return (.utf8, 0)
        }
    }

    /// A message from its parsed JSON form, following the rules of `ChatMessage.init(from:)`;
    /// `nil` sends the caller to the `JSONDecoder` path.
    static func message(from value: Value) -> ChatMessage? {
        guard value.isReadableObject, let id = value["id"]?.string,
              let role = value["role"]?.string.flatMap(ChatMessage.Role.init(rawValue:)) else { return nil }
        // Parts (base64, unknown types left out) are read by `JSONDecoder`.
        switch value["parts"] {
        case nil, .null?: break
        default: return nil
        }
        guard let content = optionalString(value["content"]), let name = optionalString(value["name"]),
              let toolCallID = optionalString(value["tool_call_id"]) else { return nil }
        var createdAt = Date(timeIntervalSince1970: 0)
        switch value["created_at"] {
        case .integer(let ms)?: createdAt = ChatMessage.date(unixMilliseconds: ms)
        case nil, .null?: break
        default: return nil
        }
        var metadata: [String: String] = [:]
        switch value["metadata"] {
        case .object(let members)?:
            for member in members {
                guard let key = member.key, let text = member.value.string else { return nil }
                metadata[key] = text
            }
        case nil, .null?: break
        default: return nil
        }
        var toolCalls: [ChatMessage.ToolCall] = []
        switch value["tool_calls"] {
        case .array(let items)?:
            for item in items {
                guard item.isReadableObject, let callID = optionalString(item["id"]), let callName = optionalString(item["name"]),
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
}
