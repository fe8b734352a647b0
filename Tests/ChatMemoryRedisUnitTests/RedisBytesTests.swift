@testable import ChatMemoryRedis
import Testing

/// ``RedisBytes``: a view of its part of a shared buffer that behaves like an array of its own
/// bytes (indexes, equality, hashing, what it shows).
@Suite struct RedisBytesTests {
    /// A buffer of three strings, "ab", "", "cde", as a reply's array would share it.
    static let buffer: [UInt8] = Array("xxabcdeyy".utf8)
    static let ab = RedisBytes(sharing: buffer, bounds: 2..<4)
    static let empty = RedisBytes(sharing: buffer, bounds: 4..<4)
    static let cde = RedisBytes(sharing: buffer, bounds: 4..<7)

    @Test func aViewIsIndexedFromZeroOverItsOwnPartOnly() {
        #expect(Self.cde.startIndex == 0 && Self.cde.endIndex == 3 && Self.cde.count == 3)
        #expect(Self.cde[0] == UInt8(ascii: "c") && Self.cde[2] == UInt8(ascii: "e"))
        #expect(Array(Self.cde) == Array("cde".utf8))
        #expect(Self.cde.array == Array("cde".utf8))
        #expect(Self.empty.isEmpty && Self.empty.array.isEmpty)
        #expect(Self.cde.withUnsafeBytes { Array($0) } == Array("cde".utf8))
        #expect(Self.cde.withContiguousStorageIfAvailable { Array($0) } == Array("cde".utf8))
        #expect(String(decoding: Self.ab, as: UTF8.self) == "ab")
        #expect(Array(Self.cde[1...]) == Array("de".utf8))
    }

    @Test func equalBytesAreEqualAndHashAlikeWhateverTheirBuffer() {
        let own = RedisBytes(Array("cde".utf8))
        #expect(Self.cde == own && Self.cde.hashValue == own.hashValue)
        #expect(Self.cde == [0x63, 0x64, 0x65] && Self.cde == RedisBytes("cde".utf8))
        #expect(Self.empty == RedisBytes([]) && Self.empty.hashValue == RedisBytes([]).hashValue)
        #expect(Self.ab != Self.cde && Self.ab != RedisBytes(Array("abc".utf8)) && Self.empty != Self.ab)
        #expect(Set([Self.cde, own, Self.ab]).count == 2)
        // As reply values, built either way.
        #expect(RedisValue.bulkString(Self.cde) == .bulkString(Array("cde".utf8)))
        #expect(RedisValue.array([.bulkString(Self.ab)]) != .array([.bulkString(Self.cde)]))
    }

    @Test func theWholeBufferIsHandedOutWithoutACopyAndAPartIsCopiedAlone() {
        let whole = RedisBytes(Self.buffer)
        let address = Self.buffer.withUnsafeBytes { $0.baseAddress }
        #expect(whole.array.withUnsafeBytes { $0.baseAddress } == address)
        #expect(whole.withUnsafeBytes { $0.baseAddress } == address)
        #expect(Self.ab.withUnsafeBytes { $0.baseAddress } == address.map { $0 + 2 })
        let copy = Self.ab.array
        #expect(copy == Array("ab".utf8) && copy.capacity < Self.buffer.count)
    }

    @Test func itShowsItsOwnBytesNeverTheRestOfItsBuffer() {
        let secret = Array("password=hunter2".utf8)
        let view = RedisBytes(sharing: secret + Array("ok".utf8), bounds: secret.count..<secret.count + 2)
        #expect(view.description == "2 bytes" && view.debugDescription == "2 bytes")
        var dumped = ""
        dump(view, to: &dumped)
        #expect(!dumped.contains("104") && !dumped.contains("password"))   // 104: "h" of hunter2
        #expect(Mirror(reflecting: view).children.map { $0.value as? UInt8 } == [UInt8(ascii: "o"), UInt8(ascii: "k")])
        #expect(RedisValue.bulkString(view).description == "\"ok\"")
        #expect(RedisValue.bulkString(view).bytes == Array("ok".utf8) && RedisValue.bulkString(view).string == "ok")
    }

    @Test func repliesReadTheirValuesFromViews() {
        let numbers = Array("12x-7".utf8)
        #expect(RedisValue.bulkString(RedisBytes(sharing: numbers, bounds: 0..<2)).int == 12)
        #expect(RedisValue.bulkString(RedisBytes(sharing: numbers, bounds: 3..<5)).int == -7)
        #expect(RedisValue.bulkString(RedisBytes(sharing: numbers, bounds: 0..<3)).int == nil)
        #expect(RedisValue.bulkString(RedisBytes(sharing: [0xFF, 0x41], bounds: 0..<1)).string == nil)
        #expect(RedisValue.bulkString(RedisBytes(sharing: [0xFF, 0x41], bounds: 1..<2)).string == "A")
    }
}
