/// The cl100k_base pattern:
/// `'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s`
enum CL100KScanner: PieceScanner {
    @inline(__always)
    static func pieceEnd(in text: UTF8Text, from start: Int) -> Int {
        let first = text.base[start]
        let (kind, length) = text.classAt(start)
        let next = start + length
        // '(?i:[sdmt]|ll|ve|re)
        if first == UInt8(ascii: "'"), let suffix = text.contractionSuffixLength(at: next) {
            return next + suffix
        }
        // [^\r\n\p{L}\p{N}]?+\p{L}++
        if kind.contains(.letter) { return text.skip(.letter, from: next) }
        if kind.isDisjoint(with: [.number, .newline]), next < text.end, text.classAt(next).0.contains(.letter) {
            return text.skip(.letter, from: next)
        }
        // \p{N}{1,3}+
        if kind.contains(.number) { return digitsEnd(in: text, from: next) }
        // ' ?[^\s\p{L}\p{N}]++[\r\n]*+'
        if first == UInt8(ascii: " "), text.isPunctuation(at: next) { return punctuationEnd(in: text, from: next) }
        if !kind.contains(.whitespace) { return punctuationEnd(in: text, from: next) }
        // \s++$ | \s*[\r\n] | \s+(?!\S) | \s
        let run = text.whitespaceRun(from: start)
        if run.end == text.end { return run.end }
        if let newlineEnd = run.newlineEnd { return newlineEnd }
        return run.lastStart > start ? run.lastStart : next
    }

    /// Up to two more digits after the first.
    @inline(__always)
    private static func digitsEnd(in text: UTF8Text, from i: Int) -> Int {
        var i = i
        for _ in 0..<2 where i < text.end {
            let (kind, length) = text.classAt(i)
            guard kind.contains(.number) else { break }
            i += length
        }
        return i
    }

    /// The rest of a punctuation run, then any `\r` and `\n`.
    @inline(__always)
    private static func punctuationEnd(in text: UTF8Text, from i: Int) -> Int {
        var i = text.skipPunctuation(from: i)
        while i < text.end, text.base[i] == 0x0A || text.base[i] == 0x0D { i += 1 }
        return i
    }
}
