/// The o200k_base pattern, seven alternatives tried in order:
/// 1. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 2. `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`
/// 3. `\p{N}{1,3}`  4. ` ?[^\s\p{L}\p{N}]+[\r\n/]*`  5. `\s*[\r\n]+`  6. `\s+(?!\S)`  7. `\s+`
///
/// The first two backtrack; the helpers below return the match a backtracking engine finds first.
enum O200KScanner: PieceScanner {
    @inline(__always)
    static func pieceEnd(in text: UTF8Text, from start: Int) -> Int {
        let first = text.base[start]
        let (kind, length) = text.classAt(start)
        let next = start + length
        // The optional leading [^\r\n\p{L}\p{N}] is tried taken first, then skipped.
        let hasPrefix = kind.isDisjoint(with: [.letter, .number, .newline])
        if hasPrefix, let end = lowerEnd(in: text, from: next) { return contractionEnd(in: text, from: end) }
        if let end = lowerEnd(in: text, from: start) { return contractionEnd(in: text, from: end) }
        if hasPrefix, let end = upperEnd(in: text, from: next) { return contractionEnd(in: text, from: end) }
        if let end = upperEnd(in: text, from: start) { return contractionEnd(in: text, from: end) }
        // \p{N}{1,3}
        if kind.contains(.number) {
            var i = next
            for _ in 0..<2 where i < text.end {
                let (found, size) = text.classAt(i)
                guard found.contains(.number) else { break }
                i += size
            }
            return i
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        var punctuationStart: Int?
        if first == UInt8(ascii: " "), text.isPunctuation(at: next) { punctuationStart = next }
        if !kind.contains(.whitespace) { punctuationStart = next }
        if let punctuationStart {
            var i = text.skipPunctuation(from: punctuationStart)
            while i < text.end, text.base[i] == 0x0A || text.base[i] == 0x0D || text.base[i] == UInt8(ascii: "/") { i += 1 }
            return i
        }
        // \s*[\r\n]+ | \s+(?!\S) | \s+
        let run = text.whitespaceRun(from: start)
        if let newlineEnd = run.newlineEnd { return newlineEnd }
        if run.end == text.end { return run.end }
        return run.lastStart > start ? run.lastStart : run.end
    }

    /// `[upper]*[lower]+` from `i`: the greedy upper run, then a lower run after it; failing
    /// that, backtracking ends the match just after the run's last scalar that is also lower.
    @inline(__always)
    private static func lowerEnd(in text: UTF8Text, from i: Int) -> Int? {
        var i = i
        var lastLowerEnd: Int?
        while i < text.end {
            let (kind, length) = text.classAt(i)
            guard kind.contains(.upper) else { break }
            i += length
            if kind.contains(.lower) { lastLowerEnd = i }
        }
        if i < text.end, text.classAt(i).0.contains(.lower) { return text.skip(.lower, from: i) }
        return lastLowerEnd
    }

    /// `[upper]+[lower]*` from `i`.
    @inline(__always)
    private static func upperEnd(in text: UTF8Text, from i: Int) -> Int? {
        let upperEnd = text.skip(.upper, from: i)
        return upperEnd > i ? text.skip(.lower, from: upperEnd) : nil
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)?` after a letter run ending at `i`.
    @inline(__always)
    private static func contractionEnd(in text: UTF8Text, from i: Int) -> Int {
        guard i < text.end, text.base[i] == UInt8(ascii: "'"),
              let suffix = text.contractionSuffixLength(at: i + 1) else { return i }
        return i + 1 + suffix
    }
}
