/// Where the encoder sends token ids: an array for `encode`, a counter for `count`.
protocol TokenSink {
    mutating func append(_ token: UInt32)
}

/// Collects token ids.
struct TokenCollector: TokenSink {
    var tokens: [Int] = []

    @inline(__always)
    mutating func append(_ token: UInt32) { tokens.append(Int(token)) }
}

/// Counts token ids without storing them.
struct TokenCounter: TokenSink {
    var count = 0

    @inline(__always)
    mutating func append(_ token: UInt32) { count += 1 }
}
