/// A hand-written equivalent of one encoding's pre-tokenization regex: it splits text into the
/// pieces that byte-pair encoding then works on, exactly where tiktoken's regex would.
protocol PieceScanner {
    /// The end of the piece that starts at byte `start` (`start < text.end`).
    static func pieceEnd(in text: UTF8Text, from start: Int) -> Int
}
