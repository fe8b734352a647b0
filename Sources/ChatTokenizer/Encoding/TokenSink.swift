/// Where the encoder sends token ids: an array for `encode`, a counter for `count`.
protocol TokenSink {
    mutating func append(_ token: UInt32)
    /// Makes room for `count` more tokens (a long piece's, known before they are sent).
    mutating func reserve(_ count: Int)
}

/// Collects token ids.
struct TokenCollector: TokenSink {
    var tokens: [Int] = []

    @inline(__always)
    mutating func append(_ token: UInt32) { tokens.append(Int(token)) }

    /// Grows the array once for the whole piece instead of by repeated doubling (each doubling
    /// briefly holds the old and the new copy), but never by less than doubling, so that many
    /// long pieces in a row still cost amortised constant time per token.
    mutating func reserve(_ count: Int) {
        let needed = tokens.count + count
        if needed > tokens.capacity { tokens.reserveCapacity(max(needed, 2 * tokens.capacity)) }
    }
}

/// Counts token ids without storing them.
struct TokenCounter: TokenSink {
    var count = 0

    @inline(__always)
    mutating func append(_ token: UInt32) { count += 1 }

    func reserve(_ count: Int) {}
}
