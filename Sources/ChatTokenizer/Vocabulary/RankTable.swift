/// The mergeable ranks of an encoding: every token's bytes in one contiguous buffer, indexed by
/// rank, plus an open-addressing hash table from byte slices to ranks. A slot keeps a token's
/// first eight bytes and length, so most lookups settle on the slot alone.
///
/// The table owns its buffers and frees them in `deinit`; nothing is mutated after `init`, which
/// is why it is safe to share between tasks. Lookups never allocate.
final class RankTable: @unchecked Sendable {
    /// Returned by `rank(of:count:)` when the bytes are not a token.
    static let absent = UInt32.max

    /// One past the largest rank.
    let rankLimit: Int
    private let tokenBytes: UnsafeMutableBufferPointer<UInt8>
    /// `tokenBytes[offsets[r]..<offsets[r + 1]]` is the token of rank `r`; empty when `r` is unused.
    private let offsets: UnsafeMutableBufferPointer<UInt32>
    /// A slot of the hash table; `rankPlusOne` is 0 when the slot is empty.
    private struct Slot {
        var prefix: UInt64
        var rankPlusOne: UInt32
        var length: UInt32
    }

    private let slots: UnsafeMutableBufferPointer<Slot>
    private let slotMask: Int
    /// The rank of each single byte.
    let byteRanks: UnsafeMutableBufferPointer<UInt32>
    /// The rank of every two-byte sequence, at index `first << 8 | second`, or `absent`.
    let pairRanks: UnsafeMutableBufferPointer<UInt32>
    /// For each two-byte token (indexed as in `pairRanks`), its place among the two-byte tokens
    /// in rank order: sorting pairs by it sorts them by rank, with a 16-bit key.
    let pairOrder: UnsafeMutableBufferPointer<UInt16>

    /// Builds the table from a parsed rank file. Throws if a byte has no single-byte token.
    init(_ vocabulary: ParsedRankFile) throws(TokenizerError) {
        rankLimit = vocabulary.rankLimit
        tokenBytes = .allocate(capacity: max(vocabulary.bytes.count, 1))
        _ = tokenBytes.initialize(from: vocabulary.bytes)
        offsets = .allocate(capacity: rankLimit + 1)
        offsets.initialize(repeating: 0)
        var capacity = 16
        while capacity < vocabulary.tokens.count * 2 { capacity <<= 1 }
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(prefix: 0, rankPlusOne: 0, length: 0))
        slotMask = capacity - 1
        byteRanks = .allocate(capacity: 256)
        byteRanks.initialize(repeating: Self.absent)
        pairRanks = .allocate(capacity: 1 << 16)
        pairRanks.initialize(repeating: Self.absent)
        pairOrder = .allocate(capacity: 1 << 16)
        pairOrder.initialize(repeating: 0)

        // Lay tokens out in rank order so that offsets[r + 1] ends token r.
        var ordered = vocabulary.tokens
        ordered.sort { $0.rank < $1.rank }
        var next = 0
        var cursor = 0
        let source = vocabulary.bytes
        for token in ordered {
            while next <= token.rank { offsets[next] = UInt32(cursor); next += 1 }
            for i in 0..<token.length { tokenBytes[cursor + i] = source[token.start + i] }
            cursor += token.length
        }
        while next <= rankLimit { offsets[next] = UInt32(cursor); next += 1 }
        for token in ordered { insert(rank: UInt32(token.rank)) }
        for byte in 0..<256 {
            var value = UInt8(byte)
            byteRanks[byte] = rank(of: &value, count: 1)
            if byteRanks[byte] == Self.absent { throw .missingByteToken(UInt8(byte)) }
        }
        var pairTokens: [(rank: UInt32, pair: Int)] = []
        for pair in 0..<(1 << 16) {
            var bytes = [UInt8(pair >> 8), UInt8(pair & 0xFF)]
            pairRanks[pair] = rank(of: &bytes, count: 2)
            if pairRanks[pair] != Self.absent { pairTokens.append((pairRanks[pair], pair)) }
        }
        pairTokens.sort { $0.rank < $1.rank }
        for (place, token) in pairTokens.enumerated() { pairOrder[token.pair] = UInt16(place) }
    }

    deinit {
        tokenBytes.deallocate()
        offsets.deallocate()
        slots.deallocate()
        byteRanks.deallocate()
        pairRanks.deallocate()
        pairOrder.deallocate()
    }

    /// The rank of the two bytes at `start`, or `RankTable.absent`.
    @inline(__always)
    func pairRank(_ start: UnsafePointer<UInt8>) -> UInt32 {
        pairRanks[Int(start[0]) << 8 | Int(start[1])]
    }

    /// The rank of the token spelled by `count` bytes at `start`, or `RankTable.absent`.
    @inline(__always)
    func rank(of start: UnsafePointer<UInt8>, count: Int) -> UInt32 {
        let prefix = Self.prefix(start, count)
        var index = Int(truncatingIfNeeded: Self.hash(prefix, start, count)) & slotMask
        while true {
            let slot = slots[index]
            if slot.rankPlusOne == 0 { return Self.absent }
            if slot.prefix == prefix, Int(slot.length) == count {
                let rank = slot.rankPlusOne &- 1
                if count <= 8 || tailEquals(rank: rank, start, count) { return rank }
            }
            index = (index + 1) & slotMask
        }
    }

    /// The length in bytes of the token with this rank (a rank the table returned).
    @inline(__always)
    func length(ofRank rank: UInt32) -> Int {
        Int(offsets[Int(rank) + 1]) - Int(offsets[Int(rank)])
    }

    /// The bytes of the token with this rank, or nil when no token has it.
    func bytes(ofRank rank: Int) -> UnsafeBufferPointer<UInt8>? {
        guard rank >= 0, rank < rankLimit else { return nil }
        let start = Int(offsets[rank])
        let end = Int(offsets[rank + 1])
        guard end > start else { return nil }
        return UnsafeBufferPointer(rebasing: tokenBytes[start..<end])
    }

    private func insert(rank: UInt32) {
        let begin = Int(offsets[Int(rank)])
        let count = Int(offsets[Int(rank) + 1]) - begin
        let start = UnsafePointer(tokenBytes.baseAddress! + begin)
        let prefix = Self.prefix(start, count)
        var index = Int(truncatingIfNeeded: Self.hash(prefix, start, count)) & slotMask
        while slots[index].rankPlusOne != 0 { index = (index + 1) & slotMask }
        slots[index] = Slot(prefix: prefix, rankPlusOne: rank + 1, length: UInt32(count))
    }

    /// Whether bytes 8..<count of the token with this rank equal those at `start`.
    private func tailEquals(rank: UInt32, _ start: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let token = tokenBytes.baseAddress! + Int(offsets[Int(rank)])
        for i in 8..<count where token[i] != start[i] { return false }
        return true
    }

    /// The first `min(count, 8)` bytes as a little-endian word, zero-padded.
    @inline(__always)
    private static func prefix(_ start: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        let raw = UnsafeRawPointer(start)
        if count >= 8 { return UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        var word: UInt64 = 0
        var i = 0
        if count & 4 != 0 {
            word = UInt64(UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self)))
            i = 4
        }
        if count & 2 != 0 {
            word |= UInt64(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt16.self))) << UInt64(i * 8)
            i += 2
        }
        if count & 1 != 0 { word |= UInt64(start[i]) << UInt64(i * 8) }
        return word
    }

    /// A fast 64-bit hash: the prefix word, then each further 8-byte word, mixed by multiplication.
    @inline(__always)
    private static func hash(_ head: UInt64, _ start: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var hash = (head ^ UInt64(count) &* 0x9E37_79B9_7F4A_7C15) &* 0xFF51_AFD7_ED55_8CCD
        var i = 8
        while i < count {
            hash = (hash ^ (hash >> 29) ^ prefix(start + i, min(8, count - i))) &* 0xC4CE_B9FE_1A85_EC53
            i += 8
        }
        hash ^= hash >> 32
        hash &*= 0xFF51_AFD7_ED55_8CCD
        return hash ^ (hash >> 29)
    }
}
