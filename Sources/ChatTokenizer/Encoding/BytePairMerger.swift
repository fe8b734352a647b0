/// Byte-level BPE on one piece: start from single bytes and repeatedly merge the adjacent pair
/// whose concatenation has the lowest rank (the leftmost on ties) until no pair is a token.
enum BytePairMerger {
    /// Pieces up to this many bytes merge in stack buffers with linear scans; longer ones use a
    /// heap (`encodeLong`), whose time grows as n log n and memory as n.
    static let smallPieceLimit = 128

    /// Sends the tokens of the `count`-byte piece at `piece` (`count >= 2`) to `sink`.
    @inline(__always)
    static func encode<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        if count <= smallPieceLimit {
            encodeSmall(piece, count: count, ranks: ranks, into: &sink)
        } else {
            encodeLong(piece, count: count, ranks: ranks, into: &sink)
        }
    }

    /// Parts as parallel arrays: `starts[k]` where part k begins (plus the end), `tokens[k]` its
    /// rank, `pairs[k]` the rank of parts k and k+1 together. A merge shifts the tails left.
    static func encodeSmall<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * count + 1) { buffer in
            let starts = buffer.baseAddress!
            let tokens = starts + count + 1
            let pairs = tokens + count
            for i in 0..<count {
                starts[i] = UInt32(i)
                tokens[i] = ranks.byteRanks[Int(piece[i])]
                pairs[i] = i + 1 < count ? ranks.pairRank(piece + i) : RankTable.absent
            }
            starts[count] = UInt32(count)
            var parts = count
            while parts > 1 {
                var best = RankTable.absent
                var bestIndex = 0
                for k in 0..<parts - 1 where pairs[k] < best {
                    best = pairs[k]
                    bestIndex = k
                }
                if best == RankTable.absent { break }
                tokens[bestIndex] = best
                parts -= 1
                for k in bestIndex + 1..<parts {
                    starts[k] = starts[k + 1]
                    tokens[k] = tokens[k + 1]
                    pairs[k] = pairs[k + 1]
                }
                starts[parts] = UInt32(count)
                pairs[bestIndex] = pairRank(piece, starts, bestIndex, parts, ranks)
                if bestIndex > 0 { pairs[bestIndex - 1] = pairRank(piece, starts, bestIndex - 1, parts, ranks) }
            }
            for k in 0..<parts { sink.append(tokens[k]) }
        }
    }

    /// The rank of parts k and k+1 together, or `absent` when k is the last part.
    @inline(__always)
    private static func pairRank(_ piece: UnsafePointer<UInt8>, _ starts: UnsafeMutablePointer<UInt32>, _ k: Int, _ parts: Int, _ ranks: RankTable) -> UInt32 {
        guard k + 1 < parts else { return RankTable.absent }
        let start = Int(starts[k])
        return ranks.rank(of: piece + start, count: Int(starts[k + 2]) - start)
    }
}
