@testable import ChatMemoryRedis
import Testing

/// The tags that put a key in a chosen slot (the chat memory's id index beside its session).
@Suite struct HashSlotTagTests {
    @Test func everySlotHasATagOfThreeAlphanumericsThatHashesToIt() {
        let alphanumerics = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var distinct = Set<[UInt8]>()
        for slot in 0..<HashSlot.count {
            let tag = Array(HashSlot.tag(forSlot: slot))
            #expect(tag.count == 3 && tag.allSatisfy(alphanumerics.contains), "slot \(slot): \(tag)")
            #expect(HashSlot.of(tag) == slot)
            #expect(HashSlot.of(Array("ids:{".utf8) + tag + Array("}".utf8)) == slot)
            distinct.insert(tag)
        }
        #expect(distinct.count == HashSlot.count)
        // The same tags every time (the table is found by a fixed enumeration), and a slot out of
        // range is taken modulo 16384 rather than trapping.
        #expect(Array(HashSlot.tag(forSlot: 0)) == Array(HashSlot.tag(forSlot: 16384)))
        #expect(Array(HashSlot.tag(forSlot: -1)) == Array(HashSlot.tag(forSlot: 16383)))
        #expect(Array(HashSlot.tag(forSlot: Int.max)) == Array(HashSlot.tag(forSlot: 16383)))
    }

    @Test(arguments: hostileKeys)
    func aTaggedKeyLandsInTheSlotOfAnyOtherKey(_ key: [UInt8]) {
        let slot = HashSlot.of(key)
        let tagged = Array("ids:{".utf8) + HashSlot.tag(forSlot: slot) + Array("}".utf8) + key
        #expect(HashSlot.of(tagged) == slot)
    }

    static let hostileKeys: [[UInt8]] = [
        Array("chat:user-42".utf8), Array("chat:{".utf8), Array("chat:}".utf8), Array("chat:{}".utf8),
        Array("chat:{a}".utf8), Array("{a}chat:".utf8), Array("{}{a}".utf8), Array("}{".utf8), Array("chat:{{a}}".utf8),
        Array("chat:".utf8) + [0x00, 0x7B, 0x00, 0x7D], Array("chat:".utf8) + [0xFF, 0xFE, 0x7B, 0xC3, 0x7D],
        Array("chat:".utf8) + Array(repeating: 0x7B, count: 512), Array("chat:".utf8) + Array(repeating: 0x7D, count: 512),
        Array("chat:".utf8) + (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37) },
        [], Array("ids:{zzz}chat:x".utf8),
    ]
}
