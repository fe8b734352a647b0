import Foundation

/// One part of a message whose content is more than one text: a text, an image or a file, in
/// the order the model reads them.
///
/// ```swift
/// let png: [UInt8] = ...
/// let message = ChatMessage(role: .user, parts: [
///     .text("What is on this screenshot?"),
///     .image(.bytes(png, mediaType: "image/png"), detail: .low),
///     .file(.url("https://example.com/report.pdf"), name: "report.pdf"),
/// ])
/// ```
public enum ContentPart: Sendable, Hashable {
    case text(String)
    /// An image. `width` and `height` are its size in pixels, which token counting needs: when
    /// `nil`, they are read from inline PNG, JPEG, GIF or WebP bytes, and otherwise estimated
    /// (``MediaTokenEstimate/unsizedImage``).
    case image(MediaSource, detail: ImageDetail? = nil, width: Int? = nil, height: Int? = nil)
    /// A file (a PDF, say): `name` is its file name, when known.
    case file(MediaSource, name: String? = nil)

    /// The text, for a ``text(_:)`` part.
    public var text: String? {
        if case .text(let text) = self { text } else { nil }
    }
}

/// Where an image's or file's bytes are: at a URL, or inline (kept in Redis with the message,
/// and counted by ``ChatMemoryConfiguration/maxMessageBytes``).
public enum MediaSource: Sendable, Hashable {
    /// An `https:` URL, or a provider's own reference the provider accepts as a URL.
    case url(String)
    /// The bytes themselves, with their media type (`image/png`, `application/pdf`, …).
    case bytes([UInt8], mediaType: String)

    /// The URL's UTF-8 bytes, or the inline bytes and the media type's.
    var byteCount: Int {
        switch self {
        case .url(let url): url.utf8.count
        case .bytes(let bytes, let mediaType): bytes.count + mediaType.utf8.count
        }
    }

    /// A file name for a file that has none (OpenAI requires one with inline bytes): `file`,
    /// with the media type's subtype as its extension when that is letters and digits
    /// (`application/pdf` → `file.pdf`).
    func defaultFileName() -> String {
        guard case .bytes(_, let mediaType) = self,
              let subtype = mediaType.split(separator: "/", maxSplits: 1).dropFirst().first?.split(separator: ";").first,
              !subtype.isEmpty, subtype.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return "file" }
        return "file." + subtype.lowercased()
    }

    /// A `data:` URL of inline bytes (`data:image/png;base64,…`); for a URL, the URL.
    public var url: String {
        switch self {
        case .url(let url): url
        case .bytes(let bytes, let mediaType): "data:\(mediaType);base64," + Data(bytes).base64EncodedString()
        }
    }
}

/// The resolution OpenAI looks at an image in: `low` costs a fixed 85 tokens.
public enum ImageDetail: String, Sendable, Hashable, CaseIterable {
    case low, high, auto
}

extension ChatMessage {
    /// A message whose content is `parts`; its ``content`` is the text of the text parts joined
    /// by newlines (`nil` when it has none), what a reader from before parts sees.
    public init(id: String = RandomUUID.string(), role: Role, parts: [ContentPart], name: String? = nil,
                metadata: [String: String] = [:], createdAt: Date = Date()) {
        self.init(id: id, role: role, content: Self.joinedText(of: parts), name: name, metadata: metadata, createdAt: createdAt)
        self.parts = parts
    }

    /// The text parts joined by newlines, as LlamaIndex's `content` of a message made of blocks;
    /// `nil` when no part is text.
    static func joinedText(of parts: [ContentPart]) -> String? {
        let texts = parts.compactMap(\.text)
        return texts.isEmpty ? nil : texts.joined(separator: "\n")
    }
}
