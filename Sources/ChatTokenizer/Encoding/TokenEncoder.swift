/// The encoding pipeline on UTF-8 bytes: split at special tokens, split each segment into
/// pieces with the pattern scanner, then look each piece up or merge it with BPE.
struct TokenEncoder: Sendable {
    let ranks: RankTable
    let specials: SpecialTokenSet
    let pattern: Tokenizer.Pattern
    let classes: ScalarClassTable

    /// Encodes valid UTF-8 `text` into `sink`.
    func encode<Sink: TokenSink>(_ text: UnsafeBufferPointer<UInt8>, specialTokens: SpecialTokenHandling, into sink: inout Sink) {
        guard let base = text.baseAddress else { return }
        var start = 0
        if specialTokens == .allowAll, !specials.isEmpty {
            while let match = specials.firstMatch(in: text, from: start) {
                encodeOrdinary(base, from: start, to: match.start, into: &sink)
                sink.append(UInt32(truncatingIfNeeded: match.id))
                start = match.end
            }
        }
        encodeOrdinary(base, from: start, to: text.count, into: &sink)
    }

    /// Encodes the ordinary text (no special tokens) `base[start..<end]` into `sink`.
    func encodeOrdinary<Sink: TokenSink>(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, into sink: inout Sink) {
        guard start < end else { return }
        let text = UTF8Text(base: base, end: end, classes: classes.classes)
        switch pattern {
        case .cl100k: encodePieces(text, from: start, scanner: CL100KScanner.self, into: &sink)
        case .o200k: encodePieces(text, from: start, scanner: O200KScanner.self, into: &sink)
        }
    }

    /// The end of the piece starting at `start` in the ordinary segment that ends at `segmentEnd`.
    /// It depends only on the bytes from `start` to `segmentEnd` (the patterns never look back).
    func pieceEnd(_ base: UnsafePointer<UInt8>, from start: Int, segmentEnd: Int) -> Int {
        let text = UTF8Text(base: base, end: segmentEnd, classes: classes.classes)
        return switch pattern {
        case .cl100k: CL100KScanner.pieceEnd(in: text, from: start)
        case .o200k: O200KScanner.pieceEnd(in: text, from: start)
        }
    }

    /// Encodes one piece: a single token when the vocabulary has it, else byte-pair merges.
    @inline(__always)
    func encodePiece<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, into sink: inout Sink) {
        let rank = count == 1 ? ranks.byteRanks[Int(piece[0])] : ranks.rank(of: piece, count: count)
        if rank != RankTable.absent {
            sink.append(rank)
        } else {
            BytePairMerger.encode(piece, count: count, ranks: ranks, into: &sink)
        }
    }

    private func encodePieces<Scanner: PieceScanner, Sink: TokenSink>(
        _ text: UTF8Text, from start: Int, scanner: Scanner.Type, into sink: inout Sink
    ) {
        var start = start
        while start < text.end {
            let end = Scanner.pieceEnd(in: text, from: start)
            encodePiece(text.base + start, count: end - start, into: &sink)
            start = end
        }
    }
}
