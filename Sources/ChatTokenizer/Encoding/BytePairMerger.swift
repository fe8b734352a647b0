/// Byte-level BPE on one piece: start from single bytes and repeatedly merge the adjacent pair
/// whose concatenation has the lowest rank (the leftmost on ties) until no pair is a token.
enum BytePairMerger {
    /// Pieces up to this many bytes merge in stack buffers with linear scans; longer ones use a heap.
    static let smallPieceLimit = 128

    /// Sends the tokens of the `count`-byte piece at `piece` (`count >= 2`) to `sink`.
    @inline(__always)
    static func encode<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        if count <= smallPieceLimit {
            encodeSmall(piece, count: count, ranks: ranks, into: &sink)
        } else {
            encodeLarge(piece, count: count, ranks: ranks, into: &sink)
        }
    }

    /// Parts as parallel arrays: `starts[k]` where part k begins (plus the end), `tokens[k]` its
    /// rank, `pairs[k]` the rank of parts k and k+1 together. A merge shifts the tails left.
    private static func encodeSmall<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 3 * count + 1) { buffer in
            let starts = buffer.baseAddress!
            let tokens = starts + count + 1
            let pairs = tokens + count
            for i in 0..<count {
                starts[i] = UInt32(i)
                tokens[i] = ranks.byteRanks[Int(piece[i])]
                pairs[i] = i + 1 < count ? ranks.rank(of: piece + i, count: 2) : RankTable.absent
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

    /// Parts as a doubly linked list over byte offsets and candidate pairs in a min-heap ordered
    /// by (rank, offset); entries made stale by a neighbouring merge are skipped when popped.
    private static func encodeLarge<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        var next = (0..<count).map { $0 + 1 }
        var previous = (0..<count).map { $0 - 1 }
        var tokens = (0..<count).map { ranks.byteRanks[Int(piece[$0])] }
        var alive = [Bool](repeating: true, count: count)
        var heap = PairHeap()
        func pushPair(at left: Int) {
            let right = next[left]
            guard right < count else { return }
            let end = next[right]
            let rank = ranks.rank(of: piece + left, count: end - left)
            if rank != RankTable.absent { heap.push(PairHeap.Entry(rank: rank, left: left, end: end)) }
        }
        for left in 0..<count - 1 { pushPair(at: left) }
        while let entry = heap.pop() {
            let left = entry.left
            guard alive[left], next[left] < count, next[next[left]] == entry.end else { continue }
            let right = next[left]
            alive[right] = false
            next[left] = entry.end
            if entry.end < count { previous[entry.end] = left }
            tokens[left] = entry.rank
            pushPair(at: left)
            if previous[left] >= 0 { pushPair(at: previous[left]) }
        }
        var part = 0
        while part < count {
            sink.append(tokens[part])
            part = next[part]
        }
    }
}

/// A binary min-heap of candidate merges, ordered by rank and then by left offset.
struct PairHeap {
    struct Entry {
        var rank: UInt32
        var left: Int
        var end: Int

        func precedes(_ other: Entry) -> Bool { (rank, left) < (other.rank, other.left) }
    }

    private var entries: [Entry] = []

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let last = entries.popLast() else { return nil }
        guard !entries.isEmpty else { return last }
        let top = entries[0]
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { break }
            let right = left + 1
            let child = right < entries.count && entries[right].precedes(entries[left]) ? right : left
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            parent = child
        }
        return top
    }
}
