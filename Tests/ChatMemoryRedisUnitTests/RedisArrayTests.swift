@testable import ChatMemoryRedis
import Testing

/// ``RedisArray``: an array of bulk strings kept as read (one buffer and where each string ends)
/// behaves like the same values in an array: elements, equality, hashing, what it shows.
@Suite struct RedisArrayTests {
    /// "ab", "", "cde" as the reply builder lays them out.
    static let strings = RedisArray(strings: Array("abcde".utf8), ends: [2, 2, 5])
    static let values: RedisArray = [.bulkString(Array("ab".utf8)), .bulkString([]), .bulkString(Array("cde".utf8))]

    @Test func stringsAreMadeOnReadAsViewsOfTheBuffer() {
        #expect(Self.strings.count == 3 && Self.strings.startIndex == 0 && Self.strings.endIndex == 3)
        #expect(Self.strings[0] == .bulkString(Array("ab".utf8)))
        #expect(Self.strings[1] == .bulkString([]))
        #expect(Self.strings[2].string == "cde")
        #expect(Self.strings.map(\.bytes) == [Array("ab".utf8), [], Array("cde".utf8)])
        #expect(Array(Self.strings.reversed()) == Array(Self.values.reversed()))
        #expect(Self.strings.dropFirst().first == .bulkString([]))
        let empty = RedisArray(strings: [], ends: [])
        #expect(empty.isEmpty && empty.first == nil && empty == [])
        let blanks = RedisArray(strings: [], ends: [0, 0])
        #expect(blanks.count == 2 && blanks.allSatisfy { $0 == .bulkString([]) })
    }

    @Test func theSameElementsAreEqualAndHashAlikeHoweverKept() {
        #expect(Self.strings == Self.values && Self.strings.hashValue == Self.values.hashValue)
        #expect(RedisValue.array(Self.strings) == .array(Self.values))
        #expect(RedisValue.array(Self.strings).hashValue == RedisValue.array(Self.values).hashValue)
        #expect(Self.strings != RedisArray(strings: Array("abcde".utf8), ends: [2, 3, 5]), "the same bytes, split elsewhere")
        #expect(Self.strings != [.bulkString(Array("ab".utf8)), .bulkString([])], "a prefix")
        #expect(Set([Self.strings, Self.values]).count == 1)
        #expect(RedisValue.array([RedisValue.integer(1), .null]).array == [.integer(1), .null])
    }

    @Test func itShowsItsElements() {
        #expect(Self.strings.description == #"["ab", "", "cde"]"#)
        #expect(RedisValue.array(Self.strings).description == Self.values.description)
        #expect(RedisArray([]).description == "[]")
    }
}
