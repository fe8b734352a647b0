/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
package enum HashSlot {
    static let count = 16384

    /// The slot of `key`. When the key holds `{…}` with at least one byte between the first `{`
    /// and the next `}`, only those bytes are hashed, so `{user42}:a` and `{user42}:b` share a slot.
    package static func of(_ key: [UInt8]) -> Int {
        Int(crc16(hashed(key)) & 0x3FFF)
    }

    /// Three characters of `[0-9A-Za-z]` whose slot is `slot` (modulo 16384): a key whose first
    /// braces hold them, such as `ids:{tag}` followed by any bytes, lands in that slot.
    package static func tag(forSlot slot: Int) -> ArraySlice<UInt8> {
        let start = 3 * (slot & 0x3FFF)
        return tags[start..<(start + 3)]
    }

    /// The first tag of every slot, three bytes each, found once by trying every tag in order
    /// (`000`, `001`, … `zzz`: 238,328 tags cover all 16,384 slots).
    private static let tags: [UInt8] = {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var tags = [UInt8](repeating: 0, count: 3 * count)
        var found = [Bool](repeating: false, count: count)
        for first in alphabet {
            for second in alphabet {
                for third in alphabet {
                    let slot = Int(crc16([first, second, third]) & 0x3FFF)
                    if found[slot] { continue }
                    found[slot] = true
                    tags.replaceSubrange((3 * slot)..<(3 * slot + 3), with: [first, second, third])
                }
            }
        }
        return tags
    }()

    /// The part of the key that is hashed (its hash tag, or the whole key).
    static func hashed(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1 else { return key[...] }
        return key[(open + 1)..<close]
    }

    /// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection.
    static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(byte))]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
