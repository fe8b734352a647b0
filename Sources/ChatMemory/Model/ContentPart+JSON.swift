import Foundation

/// The JSON form of a part, under the message's `parts` key (keys sorted when written):
///
/// ```json
/// {"text":"What is this?","type":"text"}
/// {"detail":"low","type":"image","url":"https://example.com/cat.png"}
/// {"data":"iVBORw0KGgo…","height":600,"media_type":"image/png","type":"image","width":800}
/// {"data":"JVBERi0…","media_type":"application/pdf","name":"report.pdf","type":"file"}
/// ```
///
/// Inline bytes are standard base64 (`data`, with `media_type`); a URL is `url` (a part with
/// both is read as the URL). What a newer writer may add is read as an unknown key is: a part
/// of a type this version does not know, or with neither `url` nor `data`, is left out, and an
/// unknown `detail` reads as none. Bytes that are not base64 make the message unreadable.
extension ContentPart: Codable {
    enum CodingKeys: String, CodingKey {
        case type, text, url, data, detail, width, height, name
        case mediaType = "media_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .type) {
        case "text":
            self = .text(try c.decode(String.self, forKey: .text))
        case "image":
            // A detail a newer writer knows and this version does not reads as none.
            let detail = try c.decodeIfPresent(String.self, forKey: .detail).flatMap(ImageDetail.init(rawValue:))
            self = .image(try Self.source(c), detail: detail, width: try c.decodeIfPresent(Int.self, forKey: .width),
                          height: try c.decodeIfPresent(Int.self, forKey: .height))
        case "file":
            self = .file(try Self.source(c), name: try c.decodeIfPresent(String.self, forKey: .name))
        case let type:
            throw UnknownPartType(type: type)
        }
    }

    /// Thrown for a part whose `type` this version does not know; the message leaves it out.
    struct UnknownPartType: Error { let type: String }

    private static func source(_ c: KeyedDecodingContainer<CodingKeys>) throws -> MediaSource {
        if let url = try c.decodeIfPresent(String.self, forKey: .url) { return .url(url) }
        // Neither a URL nor bytes: a source a newer writer knows (a provider's file id, say).
        guard let text = try c.decodeIfPresent(String.self, forKey: .data) else { throw UnknownPartType(type: "source") }
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "data is not base64")
        }
        return .bytes(Array(data), mediaType: try c.decode(String.self, forKey: .mediaType))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try c.encode("text", forKey: .type)
            try c.encode(text, forKey: .text)
        case .image(let source, let detail, let width, let height):
            try c.encode("image", forKey: .type)
            try Self.encode(source, into: &c)
            try c.encodeIfPresent(detail?.rawValue, forKey: .detail)
            try c.encodeIfPresent(width, forKey: .width)
            try c.encodeIfPresent(height, forKey: .height)
        case .file(let source, let name):
            try c.encode("file", forKey: .type)
            try Self.encode(source, into: &c)
            try c.encodeIfPresent(name, forKey: .name)
        }
    }

    private static func encode(_ source: MediaSource, into c: inout KeyedEncodingContainer<CodingKeys>) throws {
        switch source {
        case .url(let url):
            try c.encode(url, forKey: .url)
        case .bytes(let bytes, let mediaType):
            try c.encode(Data(bytes).base64EncodedString(), forKey: .data)
            try c.encode(mediaType, forKey: .mediaType)
        }
    }
}

/// The parts of a message as read: parts of a type this version does not know are left out.
struct ReadableParts: Decodable {
    var parts: [ContentPart] = []

    init(from decoder: any Decoder) throws {
        parts = try decoder.singleValueContainer().decode([KnownPart].self).compactMap(\.part)
    }

    /// A part, or `nil` for one of an unknown type (decoding it never throws for that alone,
    /// so the array goes on).
    private struct KnownPart: Decodable {
        var part: ContentPart?

        init(from decoder: any Decoder) throws {
            do {
                part = try ContentPart(from: decoder)
            } catch is ContentPart.UnknownPartType {
                part = nil
            }
        }
    }
}

extension ChatMessage {
    /// Why the message's parts cannot be sent, or `nil` when they can: images and files only in
    /// user messages, each with a non-empty URL or media type, an image's size positive.
    var partProblem: String? {
        if role != .user, let index = parts.firstIndex(where: { $0.text == nil }) {
            return "part \(index): images and files go in user messages (the model APIs take them nowhere else); "
                + "a \(role.rawValue) message's parts are texts"
        }
        for (index, part) in parts.enumerated() {
            switch part {
            case .text: continue
            case .image(let source, _, let width, let height):
                if let problem = source.problem { return "part \(index): \(problem)" }
                if let width, width < 1 { return "part \(index): an image's width must be at least 1 (got \(width))" }
                if let height, height < 1 { return "part \(index): an image's height must be at least 1 (got \(height))" }
            case .file(let source, _):
                if let problem = source.problem { return "part \(index): \(problem)" }
            }
        }
        return nil
    }
}

extension MediaSource {
    var problem: String? {
        switch self {
        case .url(let url): url.isEmpty ? "a URL must not be empty" : nil
        case .bytes(_, let mediaType): mediaType.isEmpty ? "inline bytes need a media type" : nil
        }
    }
}
