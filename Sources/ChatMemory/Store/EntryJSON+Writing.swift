import Foundation

extension EntryJSON {
    /// Appends `text` as a JSON string: `"` and `\` escaped, control characters as escapes,
    /// everything else as UTF-8 (copied in runs, not byte by byte).
    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                appendEscape(of: byte, to: &out)
                runStart = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(of byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                    hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
        }
    }

    /// Appends a part's JSON form (``ContentPart``'s `Codable` form) with its keys sorted.
    static func writePart(_ part: ContentPart, to out: inout [UInt8]) {
        let objectStart = out.count
        func key(_ name: String) {
            if out.count > objectStart + 1 { out.append(UInt8(ascii: ",")) }
            writeString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func number(_ name: String, _ value: Int?) {
            guard let value else { return }
            key(name)
            out += Array(String(value).utf8)
        }
        func source(_ source: MediaSource, then middle: () -> Void) {
            // Sorted: data, (detail, height), media_type, (name), type, url, (width).
            switch source {
            case .bytes(let bytes, let mediaType):
                key("data"); writeString(Data(bytes).base64EncodedString(), to: &out)
                middle()
                key("media_type"); writeString(mediaType, to: &out)
            case .url:
                middle()
            }
        }
        out.append(UInt8(ascii: "{"))
        switch part {
        case .text(let text):
            key("text"); writeString(text, to: &out)
            key("type"); writeString("text", to: &out)
        case .image(let media, let detail, let width, let height):
            source(media) {
                if let detail { key("detail"); writeString(detail.rawValue, to: &out) }
                number("height", height)
            }
            key("type"); writeString("image", to: &out)
            if case .url(let url) = media { key("url"); writeString(url, to: &out) }
            number("width", width)
        case .file(let media, let name):
            source(media) {}
            if let name { key("name"); writeString(name, to: &out) }
            key("type"); writeString("file", to: &out)
            if case .url(let url) = media { key("url"); writeString(url, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the message's JSON form with its keys sorted.
    static func writeMessage(_ message: ChatMessage, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        writeMembers(of: message, withCore: true, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Appends the members of the message's JSON form other than `content`, `created_at`, `id`
    /// and `role` (keys sorted, comma separated, no braces): what the compact entry keeps in
    /// its last element.
    static func writeOtherKeys(of message: ChatMessage, to out: inout [UInt8]) {
        writeMembers(of: message, withCore: false, to: &out)
    }

    private static func writeMembers(of message: ChatMessage, withCore: Bool, to out: inout [UInt8]) {
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            writeString(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        if withCore {
            if let content = message.content { key("content"); writeString(content, to: &out) }
            key("created_at"); out += Array(String(ChatMessage.unixMilliseconds(message.createdAt)).utf8)
            key("id"); writeString(message.id, to: &out)
        }
        if !message.metadata.isEmpty {
            key("metadata")
            out.append(UInt8(ascii: "{"))
            for (index, entry) in message.metadata.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(entry.key, to: &out)
                out.append(UInt8(ascii: ":"))
                writeString(entry.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        if let name = message.name { key("name"); writeString(name, to: &out) }
        if !message.parts.isEmpty {
            key("parts")
            out.append(UInt8(ascii: "["))
            for (index, part) in message.parts.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writePart(part, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        if withCore { key("role"); writeString(message.role.rawValue, to: &out) }
        if let callID = message.toolCallID { key("tool_call_id"); writeString(callID, to: &out) }
        if !message.toolCalls.isEmpty {
            key("tool_calls")
            out.append(UInt8(ascii: "["))
            for (index, call) in message.toolCalls.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += Array(#"{"arguments":"#.utf8); writeString(call.arguments, to: &out)
                out += Array(#","id":"#.utf8); writeString(call.id, to: &out)
                out += Array(#","name":"#.utf8); writeString(call.name, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
    }
}
