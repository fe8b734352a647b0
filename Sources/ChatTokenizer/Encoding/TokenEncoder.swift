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

    private func encodeOrdinary<Sink: TokenSink>(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, into sink: inout Sink) {
        guard start < end else { return }
        let text = UTF8Text(base: base, end: end, classes: classes.classes)
        switch pattern {
        case .cl100k: encodePieces(text, from: start, scanner: CL100KScanner.self, into: &sink)
        case .o200k: encodePieces(text, from: start, scanner: O200KScanner.self, into: &sink)
        }
    }

    private func encodePieces<Scanner: PieceScanner, Sink: TokenSink>(
        _ text: UTF8Text, from start: Int, scanner: Scanner.Type, into sink: inout Sink
    ) {
        var start = start
        while start < text.end {
            let end = Scanner.pieceEnd(in: text, from: start)
            let piece = text.base + start
            let count = end - start
            let rank = count == 1 ? ranks.byteRanks[Int(piece[0])] : ranks.rank(of: piece, count: count)
            if rank != RankTable.absent {
                sink.append(rank)
            } else {
                BytePairMerger.encode(piece, count: count, ranks: ranks, into: &sink)
            }
            start = end
        }
    }
}
