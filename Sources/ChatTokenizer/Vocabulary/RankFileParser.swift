/// The contents of a `.tiktoken` rank file: decoded token bytes back to back, and where each
/// token of each rank starts.
struct ParsedRankFile {
    /// One token: `bytes[start..<start + length]` has rank `rank`.
    struct Token {
        var rank: Int
        var start: Int
        var length: Int
    }

    var bytes: [UInt8] = []
    var tokens: [Token] = []
    /// One past the largest rank.
    var rankLimit = 0

    /// Parses lines of `base64-token SPACE decimal-rank`; blank lines are skipped.
    /// Throws `malformedRankFile` naming the first bad line (1-based).
    init(_ file: UnsafeRawBufferPointer) throws(TokenizerError) {
        bytes.reserveCapacity(file.count)
        tokens.reserveCapacity(file.count / 8)
        var lineStart = 0
        var lineNumber = 0
        while lineStart < file.count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < file.count, file[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > lineStart, file[contentEnd - 1] == UInt8(ascii: "\r") { contentEnd -= 1 }
            if contentEnd > lineStart {
                try parseLine(file, lineStart..<contentEnd, lineNumber: lineNumber)
            }
            lineStart = lineEnd + 1
        }
        try checkRanksAreUnique()
    }

    private mutating func parseLine(_ file: UnsafeRawBufferPointer, _ line: Range<Int>, lineNumber: Int) throws(TokenizerError) {
        guard let space = line.firstIndex(where: { file[$0] == UInt8(ascii: " ") }) else {
            throw .malformedRankFile(line: lineNumber, reason: "no space between token and rank")
        }
        var rank = 0
        let digits = space + 1..<line.upperBound
        guard !digits.isEmpty, digits.count < 10 else {
            throw .malformedRankFile(line: lineNumber, reason: "missing or oversized rank")
        }
        for i in digits {
            let digit = Int(file[i]) - Int(UInt8(ascii: "0"))
            guard (0...9).contains(digit) else { throw .malformedRankFile(line: lineNumber, reason: "rank is not a number") }
            rank = rank * 10 + digit
        }
        let start = bytes.count
        guard Base64.decode(file, line.lowerBound..<space, appendingTo: &bytes), bytes.count > start else {
            bytes.removeSubrange(start...)
            throw .malformedRankFile(line: lineNumber, reason: "token is not non-empty base64")
        }
        tokens.append(Token(rank: rank, start: start, length: bytes.count - start))
        rankLimit = max(rankLimit, rank + 1)
    }

    private func checkRanksAreUnique() throws(TokenizerError) {
        var seen = [Bool](repeating: false, count: rankLimit)
        for (index, token) in tokens.enumerated() {
            if seen[token.rank] { throw .malformedRankFile(line: index + 1, reason: "rank \(token.rank) repeats") }
            seen[token.rank] = true
        }
    }
}
