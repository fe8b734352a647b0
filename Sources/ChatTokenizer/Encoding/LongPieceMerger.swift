/// Byte-pair merging of long pieces (megabytes of letters without a space are one piece) in
/// O(n log n) time and 4 + 4 + 8·h bytes of memory per byte of the piece, h being the candidates
/// per byte waiting in the heap: never more than 2, so at most 24 bytes per byte; about 12 in all
/// on random letters, 16 to 20 on one repeated letter.
extension BytePairMerger {
    /// Sends the tokens of the `count`-byte piece at `piece` (`count >= 2`) to `sink`; the same
    /// tokens as `encodeSmall`, for any length.
    static func encodeLong<Sink: TokenSink>(_ piece: UnsafePointer<UInt8>, count: Int, ranks: RankTable, into sink: inout Sink) {
        if count < Int(UInt32.max) {
            encodeLong(piece, count: count, offsets: UInt32.self, ranks: ranks, into: &sink)
        } else {
            encodeLong(piece, count: count, offsets: UInt64.self, ranks: ranks, into: &sink)
        }
    }

    /// The merge with byte offsets stored as `Offset` (which must hold `count`).
    ///
    /// Parts form a singly linked list: `next[i]` is where the part after the part starting at
    /// `i` starts (`count` after the last part), and 0 when byte `i` no longer starts a part (byte
    /// 0 always does). The part before one is found by walking back over such bytes, which is at
    /// most one token's length.
    ///
    /// Merges happen in (rank, offset) order, the order of the linear scan in `encodeSmall`. The
    /// candidates are of two kinds. The first pairs, two single bytes each, are sorted once (a
    /// stable radix sort on the pair's place in rank order) and read in order. Pairs formed by a
    /// merge wait in a min-heap. The next merge is the lesser of the two heads. A candidate goes
    /// stale when a neighbouring merge changes its pair; since a pair only ever grows, it is stale
    /// exactly when its pair's length is no longer its token's length, and is skipped.
    static func encodeLong<Offset: FixedWidthInteger & UnsignedInteger, Sink: TokenSink>(
        _ piece: UnsafePointer<UInt8>, count: Int, offsets: Offset.Type, ranks: RankTable, into sink: inout Sink
    ) {
        let next = UnsafeMutablePointer<Offset>.allocate(capacity: count)
        defer { next.deallocate() }
        for i in 0..<count { next[i] = Offset(truncatingIfNeeded: i + 1) }

        do {
            let (firstPairs, pairCount) = sortedFirstPairs(piece, count: count, offsets: Offset.self, ranks: ranks)
            defer { firstPairs.deallocate() }
            var sorted = 0
            // Each merge adds at most two candidates, and there are fewer than `count` merges.
            var heap = MergeHeap<Offset>(capacity: 2 * count)
            while true {
                // The next candidate: the first unread sorted pair or the heap's top, whichever is
                // less. One taken from the heap stays there until it can be replaced by a new one.
                let candidate: MergeCandidate<Offset>
                var inHeap = false
                if sorted < pairCount {
                    let left = firstPairs[sorted]
                    let first = MergeCandidate(rank: ranks.pairRank(piece + Int(left)), left: left)
                    if let top = heap.top, top.precedes(first) {
                        candidate = top
                        inHeap = true
                    } else {
                        candidate = first
                        sorted += 1
                    }
                } else if let top = heap.top {
                    candidate = top
                    inHeap = true
                } else {
                    break
                }

                let left = Int(candidate.left)
                let right = Int(next[left])
                guard right != 0, right < count, Int(next[right]) - left == ranks.length(ofRank: candidate.rank) else {
                    if inHeap { heap.removeTop() }
                    continue
                }
                let end = Int(next[right])
                next[left] = Offset(truncatingIfNeeded: end)
                next[right] = 0
                // The merged part with the part after it, and the part before with the merged part.
                if end < count {
                    let rank = ranks.rank(of: piece + left, count: Int(next[end]) - left)
                    if rank != RankTable.absent { heap.add(MergeCandidate(rank: rank, left: candidate.left), replacingTop: &inHeap) }
                }
                if left > 0 {
                    var before = left - 1
                    while next[before] == 0 { before -= 1 }
                    let rank = ranks.rank(of: piece + before, count: end - before)
                    if rank != RankTable.absent { heap.add(MergeCandidate(rank: rank, left: Offset(truncatingIfNeeded: before)), replacingTop: &inHeap) }
                }
                if inHeap { heap.removeTop() }
            }
        }

        // Every part is now a token. The candidates are freed before the tokens are sent.
        var parts = 0
        var part = 0
        while part < count {
            parts += 1
            part = Int(next[part])
        }
        sink.reserve(parts)
        part = 0
        while part < count {
            let end = Int(next[part])
            sink.append(end - part == 1 ? ranks.byteRanks[Int(piece[part])] : ranks.rank(of: piece + part, count: end - part))
            part = end
        }
    }

    /// The offsets of the piece's two-byte tokens, sorted by rank and then offset: a two-pass
    /// radix sort on the 16-bit place of the pair in rank order, stable, so offsets stay
    /// ascending within a rank. The caller deallocates the buffer.
    private static func sortedFirstPairs<Offset: FixedWidthInteger & UnsignedInteger>(
        _ piece: UnsafePointer<UInt8>, count: Int, offsets: Offset.Type, ranks: RankTable
    ) -> (UnsafeMutablePointer<Offset>, count: Int) {
        func place(_ left: Int) -> Int { Int(ranks.pairOrder[Int(piece[left]) << 8 | Int(piece[left + 1])]) }
        var low = [Int](repeating: 0, count: 257)
        var high = [Int](repeating: 0, count: 257)
        var pairs = 0
        for left in 0..<count - 1 where ranks.pairRank(piece + left) != RankTable.absent {
            let key = place(left)
            low[key & 0xFF + 1] += 1
            high[key >> 8 + 1] += 1
            pairs += 1
        }
        for digit in 1...256 {
            low[digit] += low[digit - 1]
            high[digit] += high[digit - 1]
        }
        let byLow = UnsafeMutableBufferPointer<Offset>.allocate(capacity: max(pairs, 1))
        defer { byLow.deallocate() }
        for left in 0..<count - 1 where ranks.pairRank(piece + left) != RankTable.absent {
            let digit = place(left) & 0xFF
            byLow[low[digit]] = Offset(truncatingIfNeeded: left)
            low[digit] += 1
        }
        let sorted = UnsafeMutablePointer<Offset>.allocate(capacity: max(pairs, 1))
        for index in 0..<pairs {
            let digit = place(Int(byLow[index])) >> 8
            sorted[high[digit]] = byLow[index]
            high[digit] += 1
        }
        return (sorted, pairs)
    }
}

/// A candidate merge: the parts starting at byte `left` and after it make the token `rank`.
struct MergeCandidate<Offset: FixedWidthInteger & UnsignedInteger> {
    var rank: UInt32
    var left: Offset

    @inline(__always)
    func precedes(_ other: Self) -> Bool {
        rank < other.rank || (rank == other.rank && left < other.left)
    }
}

/// A 4-ary min-heap of merge candidates in one fixed allocation: a third as many levels as a
/// binary heap, and the four children of a node sit side by side in memory.
struct MergeHeap<Offset: FixedWidthInteger & UnsignedInteger>: ~Copyable {
    typealias Candidate = MergeCandidate<Offset>
    private static var arity: Int { 4 }

    private let storage: UnsafeMutablePointer<Candidate>
    private(set) var count = 0

    /// An empty heap that can hold `capacity` candidates; pushing more is a programming error.
    init(capacity: Int) {
        storage = .allocate(capacity: max(capacity, 1))
    }

    deinit { storage.deallocate() }

    /// The least candidate, or nil when the heap is empty.
    var top: Candidate? { count > 0 ? storage[0] : nil }

    /// Adds a candidate without restoring the heap order; call `heapify()` before anything else.
    mutating func appendUnordered(_ candidate: Candidate) {
        (storage + count).initialize(to: candidate)
        count += 1
    }

    /// Orders the candidates added by `appendUnordered`, in linear time.
    mutating func heapify() {
        guard count > 1 else { return }
        var node = (count - 2) / Self.arity
        while node >= 0 {
            siftDown(from: node)
            node -= 1
        }
    }

    mutating func push(_ candidate: Candidate) {
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) / Self.arity
            guard candidate.precedes(storage[parent]) else { break }
            (storage + child).initialize(to: storage[parent])
            child = parent
        }
        (storage + child).initialize(to: candidate)
    }

    /// Removes the least candidate (the heap must not be empty).
    mutating func removeTop() {
        count -= 1
        guard count > 0 else { return }
        storage[0] = storage[count]
        siftDown(from: 0)
    }

    /// Adds `candidate`: in place of the least one if `replacingTop` (which it then clears),
    /// which costs one sift instead of two.
    mutating func add(_ candidate: Candidate, replacingTop: inout Bool) {
        if replacingTop {
            storage[0] = candidate
            siftDown(from: 0)
            replacingTop = false
        } else {
            push(candidate)
        }
    }

    private mutating func siftDown(from node: Int) {
        let moving = storage[node]
        var node = node
        while true {
            let first = Self.arity * node + 1
            guard first < count else { break }
            var least = first
            for child in first + 1..<min(first + Self.arity, count) where storage[child].precedes(storage[least]) {
                least = child
            }
            guard storage[least].precedes(moving) else { break }
            storage[node] = storage[least]
            node = least
        }
        storage[node] = moving
    }
}
