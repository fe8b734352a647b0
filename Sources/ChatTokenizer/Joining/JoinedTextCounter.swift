extension Tokenizer {
    /// A counter for texts joined by single spaces, built by prepending older texts one at a
    /// time: what LlamaIndex counts for a window of chat messages, `count(contents.joined(separator: " "))`,
    /// for every window size, in time proportional to the texts rather than to the windows.
    ///
    /// ```swift
    /// var counter = tokenizer.joinedCounter()
    /// for message in messages.reversed() {                // newest first
    ///     if counter.prepend(message.content) > limit { break }
    /// }
    /// ```
    public func joinedCounter() -> JoinedTextCounter {
        JoinedTextCounter(encoder: encoder)
    }
}

/// The exact token count of texts joined by single spaces, kept up to date as older texts are
/// prepended. After `prepend(c)`, `prepend(b)`, `prepend(a)`, `count` equals
/// `tokenizer.count("a b c")`, counted with special tokens allowed (`.allowAll`).
///
/// Each prepend tokenizes the new text and then only as far into the old text as it takes the
/// pieces to line up again with the old text's pieces: within its first word, or through its
/// leading white space when that joins a run of white space across the separator. From a
/// shared piece boundary on, the pattern splits the rest alike (it never looks back), so the old
/// text's count from there on is reused. That needs special tokens without spaces, so that none
/// can span the joining space, which holds for the bundled encodings; a tokenizer with a special
/// token containing a space recounts the whole joined text on each prepend instead.
public struct JoinedTextCounter: Sendable {
    /// The tokens of the joined text.
    public private(set) var count = 0
    /// How many texts have been prepended (an empty text counts: it still adds a space).
    public private(set) var textCount = 0
    /// Bytes tokenized so far, over all prepends (for tests of the cost).
    private(set) var scannedBytes = 0

    private let encoder: TokenEncoder
    private let incremental: Bool
    private var joined = PrependableBytes()
    /// Piece boundaries of the joined text's first segment (up to its first special token),
    /// the earliest last. The first entry is the segment's end.
    private var boundaries = [Boundary(fromEnd: 0, suffixTokens: 0)]

    /// A piece boundary, as its distance from the end of the text (prepending does not move
    /// it), and the tokens of the text from it to the end.
    private struct Boundary {
        var fromEnd: Int
        var suffixTokens: Int
    }

    init(encoder: TokenEncoder) {
        self.encoder = encoder
        incremental = !encoder.specials.anyContains(UInt8(ascii: " "))
    }

    /// Prepends `text`, joined to the current texts with one space (alone if there are none),
    /// and returns the exact token count of the whole joined text.
    @discardableResult
    public mutating func prepend(_ text: String) -> Int {
        var text = text
        let separator = textCount > 0
        let prefixLength = text.withUTF8 { joined.prepend($0, separator: separator) }
        textCount += 1
        var boundaries = self.boundaries
        self.boundaries = []
        var scanned = 0
        count = joined.withBytes { joined in
            incremental
                ? Self.recount(joined, prefixLength: prefixLength, boundaries: &boundaries, encoder: encoder, scanned: &scanned)
                : Self.countWhole(joined, encoder: encoder, scanned: &scanned)
        }
        self.boundaries = boundaries
        scannedBytes += scanned
        return count
    }

    private static func countWhole(_ joined: UnsafeBufferPointer<UInt8>, encoder: TokenEncoder, scanned: inout Int) -> Int {
        var counter = TokenCounter()
        encoder.encode(joined, specialTokens: .allowAll, into: &counter)
        scanned += joined.count
        return counter.count
    }

    /// The tokens of `joined`, whose first `prefixLength` bytes are new (the new text and the
    /// separator) and whose rest was counted before with first-segment `boundaries`, which
    /// become the new text's.
    private static func recount(
        _ joined: UnsafeBufferPointer<UInt8>, prefixLength: Int, boundaries: inout [Boundary],
        encoder: TokenEncoder, scanned: inout Int
    ) -> Int {
        guard let base = joined.baseAddress else { return 0 }
        let length = joined.count
        // Special tokens in the new bytes; none reaches across the separator, so the old text's
        // special tokens and segments stay as they were.
        var specials: [(start: Int, end: Int)] = []
        let prefix = UnsafeBufferPointer(rebasing: joined[..<prefixLength])
        while let match = encoder.specials.firstMatch(in: prefix, from: specials.last?.end ?? 0) {
            specials.append((match.start, match.end))
        }

        // The segments before the last special token of the new bytes: counted whole, the first
        // one piece by piece, since it becomes the first segment.
        var before = 0
        var firstSegmentTokens = 0
        var firstSegment: [(position: Int, tokensBefore: Int)] = []
        var segmentStart = 0
        for (index, special) in specials.enumerated() {
            if index == 0 {
                var position = 0
                while position < special.start {
                    firstSegment.append((position, before))
                    let end = encoder.pieceEnd(base, from: position, segmentEnd: special.start)
                    before += tokens(base + position, end - position, encoder)
                    position = end
                }
                firstSegmentTokens = before
            } else {
                var counter = TokenCounter()
                encoder.encodeOrdinary(base, from: segmentStart, to: special.start, into: &counter)
                before += counter.count
            }
            scanned += special.end - segmentStart
            before += 1
            segmentStart = special.end
        }

        // The segment that spans the separator: piece by piece until a piece starts where one
        // of the old text's pieces started, or the segment ends (the first boundary).
        let segmentEnd = length - boundaries[0].fromEnd
        var joinedSegment: [(position: Int, tokensBefore: Int)] = []
        var position = segmentStart
        var spanning = 0
        var after = 0
        while true {
            if position >= prefixLength {
                while let last = boundaries.last, length - last.fromEnd < position { boundaries.removeLast() }
                if let last = boundaries.last, length - last.fromEnd == position {
                    after = last.suffixTokens
                    break
                }
            }
            joinedSegment.append((position, spanning))
            let end = encoder.pieceEnd(base, from: position, segmentEnd: segmentEnd)
            spanning += tokens(base + position, end - position, encoder)
            scanned += end - position
            position = end
        }

        let total = before + spanning + after
        if specials.isEmpty {
            for boundary in joinedSegment.reversed() {
                boundaries.append(Boundary(fromEnd: length - boundary.position, suffixTokens: total - boundary.tokensBefore))
            }
        } else {
            boundaries = [Boundary(fromEnd: length - specials[0].start, suffixTokens: total - firstSegmentTokens)]
            for boundary in firstSegment.reversed() {
                boundaries.append(Boundary(fromEnd: length - boundary.position, suffixTokens: total - boundary.tokensBefore))
            }
        }
        return total
    }

    private static func tokens(_ piece: UnsafePointer<UInt8>, _ count: Int, _ encoder: TokenEncoder) -> Int {
        var counter = TokenCounter()
        encoder.encodePiece(piece, count: count, into: &counter)
        return counter.count
    }
}
