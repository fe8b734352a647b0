/// What images and files cost in a window, where no exact count is possible.
///
/// Images follow OpenAI's published rule (``imageTokens(width:height:detail:)``) when their size
/// is known; the rest is this estimate. Set it on the counter, and its ``TokenCounter/identifier``
/// changes with it, so stored counts are recounted:
///
/// ```swift
/// var counter = try TiktokenCounter()
/// counter.mediaTokens = MediaTokenEstimate(unsizedImage: 1_105, file: 3_000)
/// configuration.tokenCounter = counter
/// ```
public struct MediaTokenEstimate: Sendable, Hashable {
    /// An image whose size is unknown (a URL given without `width` and `height`, or inline bytes
    /// whose header is not PNG, JPEG, GIF or WebP): 765 by default, OpenAI's count for a
    /// 1024 × 1024 image at high detail.
    public var unsizedImage: Int
    /// A file, whatever its size: 1,500 by default (about a page of a PDF, which providers read
    /// as its text and an image of each page).
    public var file: Int

    public init(unsizedImage: Int = 765, file: Int = 1_500) {
        self.unsizedImage = unsizedImage
        self.file = file
    }

    /// The default estimate.
    public static let standard = MediaTokenEstimate()

    /// Added to a counter's identifier when the estimate is not ``standard``.
    var identifierSuffix: String {
        self == .standard ? "" : "+media(\(unsizedImage),\(file))"
    }

    /// OpenAI's published count for an image (GPT-4o, GPT-4.1 and their tile-based peers): 85
    /// at `low` detail; otherwise the image is scaled down to fit 2048 × 2048, then down so its
    /// shorter side is at most 768, and costs 85 plus 170 per 512-pixel tile it spans. `auto`
    /// and `nil` count as `high` (the most the model may take). Sizes below 1 count as 1.
    ///
    /// ```swift
    /// MediaTokenEstimate.imageTokens(width: 1024, height: 1024, detail: .high)   // 765
    /// MediaTokenEstimate.imageTokens(width: 2048, height: 4096, detail: nil)     // 1105
    /// ```
    public static func imageTokens(width: Int, height: Int, detail: ImageDetail?) -> Int {
        if detail == .low { return 85 }
        var w = Double(max(1, width)), h = Double(max(1, height))
        let fit = min(1, 2048 / max(w, h))
        w *= fit
        h *= fit
        let shorter = min(w, h)
        if shorter > 768 {
            w *= 768 / shorter
            h *= 768 / shorter
        }
        let tiles = (w / 512).rounded(.up) * (h / 512).rounded(.up)
        return 85 + 170 * Int(tiles)
    }

    /// The tokens of one part under `counter`: a text's count, an image by
    /// ``imageTokens(width:height:detail:)`` (its size given, or read from its bytes) or
    /// ``unsizedImage``, a file ``file``.
    func tokens(of part: ContentPart, counter: some TokenCounter) -> Int {
        switch part {
        case .text(let text):
            return counter.count(text)
        case .image(let source, let detail, let width, let height):
            if detail == .low { return 85 }
            if let width, let height { return Self.imageTokens(width: width, height: height, detail: detail) }
            if case .bytes(let bytes, _) = source, let size = ImageSize(bytes) {
                return Self.imageTokens(width: size.width, height: size.height, detail: detail)
            }
            return max(0, unsizedImage)
        case .file:
            return max(0, file)
        }
    }
}
