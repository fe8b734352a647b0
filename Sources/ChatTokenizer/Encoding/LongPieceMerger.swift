/// Byte-pair merging of long pieces (megabytes of letters without a space are one piece) in
/// O(n log n) time and 4 + 8·h bytes of memory per byte, h being the candidate merges per byte
/// waiting in the heap: at most one at first, never more than two.
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
    /// most one token's length. Candidate merges wait in a min-heap ordered by (rank, offset),
    /// which is the order the linear scan of `encodeSmall` merges in. A candidate goes stale when a
    /// neighbouring merge changes its pair; since a pair only ever grows, it is stale exactly when
    /// its pair's length is no longer its token's length, and is then dropped when it surfaces.
    static func encodeLong<Offset: FixedWidthInteger & UnsignedInteger, Sink: TokenSink>(
        _ piece: UnsafePointer<UInt8>, count: Int, offsets: Offset.Type, ranks: RankTable, into sink: inout Sink
    ) {
        let next = UnsafeMutablePointer<Offset>.allocate(capacity: count)
        defer { next.deallocate() }
        for i in 0..<count { next[i] = Offset(truncatingIfNeeded: i + 1) }

        do {
            // At most count - 1 candidates at first, and each merge pops one and pushes two.
            var heap = MergeHeap<Offset>(capacity: 2 * count)
            for left in 0..<count - 1 {
                let rank = ranks.rank(of: piece + left, count: 2)
                if rank != RankTable.absent { heap.appendUnordered(MergeCandidate(rank: rank, left: Offset(truncatingIfNeeded: left))) }
            }
            heap.heapify()

            while let top = heap.top {
                let left = Int(top.left)
                let right = Int(next[left])
                guard right != 0, right < count, Int(next[right]) - left == ranks.length(ofRank: top.rank) else {
                    heap.removeTop()
                    continue
                }
                let end = Int(next[right])
                next[left] = Offset(truncatingIfNeeded: end)
                next[right] = 0
                var replacedTop = false
                // The merged part with the part after it.
                if end < count {
                    let rank = ranks.rank(of: piece + left, count: Int(next[end]) - left)
                    if rank != RankTable.absent {
                        heap.replaceTop(with: MergeCandidate(rank: rank, left: top.left))
                        replacedTop = true
                    }
                }
                // The part before with the merged part.
                if left > 0 {
                    var before = left - 1
                    while next[before] == 0 { before -= 1 }
                    let rank = ranks.rank(of: piece + before, count: end - before)
                    if rank != RankTable.absent {
                        let candidate = MergeCandidate(rank: rank, left: Offset(truncatingIfNeeded: before))
                        if replacedTop { heap.push(candidate) } else { heap.replaceTop(with: candidate) }
                        replacedTop = true
                    }
                }
                if !replacedTop { heap.removeTop() }
            }
        }

        // Every part is now a token. The heap is freed before the tokens are sent.
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

    /// Replaces the least candidate with `candidate` (the heap must not be empty).
    mutating func replaceTop(with candidate: Candidate) {
        storage[0] = candidate
        siftDown(from: 0)
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
