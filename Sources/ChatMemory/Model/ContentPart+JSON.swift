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
/// Inline bytes are standard base64 (`data`, with `media_type`); a URL is `url`. A part of a
/// type this version does not know (a newer writer's) is left out when read, like an unknown key.
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
            let detail = try c.decodeIfPresent(String.self, forKey: .detail).map { text in
                guard let detail = ImageDetail(rawValue: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .detail, in: c, debugDescription: "unknown image detail \(text)")
                }
                return detail
            }
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
        let text = try c.decode(String.self, forKey: .data)
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
    /// Why the message's parts cannot be sent, or `nil` when they can: an image or file needs a
    /// non-empty URL or media type, and an image's size is positive.
    var partProblem: String? {
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
