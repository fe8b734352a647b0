/// Random (version 4) UUIDs in the text form of Foundation's `UUID().uuidString` (uppercase,
/// 8-4-4-4-12 hex digits), from two draws of the system's random source
/// (`SystemRandomNumberGenerator`): new message ids and lease tokens. Foundation's `UUID()`
/// opens, reads and closes `/dev/urandom` for each id on Linux, and formats it with `sprintf`.
@usableFromInline
enum RandomUUID {
    @usableFromInline
    static func string() -> String {
        var generator = SystemRandomNumberGenerator()
        // The version (4) is the high nibble of byte 6, the variant (binary 10) the top bits of byte 8.
        let high: UInt64 = generator.next() & ~0xF000 | 0x4000
        let low: UInt64 = generator.next() & ~(0xC000 << 48) | 0x8000 << 48
        return String(unsafeUninitializedCapacity: 36) { text in
            var index = 0
            /// Writes the `count` hex digits of `word` that end `shift` bits up.
            func digits(_ word: UInt64, _ count: Int, endingAt shift: Int) {
                for position in stride(from: shift + 4 * (count - 1), through: shift, by: -4) {
                    let nibble = UInt8(truncatingIfNeeded: word >> UInt64(position)) & 0xF
                    text[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
                    index += 1
                }
            }
            func dash() {
                text[index] = UInt8(ascii: "-")
                index += 1
            }
            digits(high, 8, endingAt: 32); dash()
            digits(high, 4, endingAt: 16); dash()
            digits(high, 4, endingAt: 0); dash()
            digits(low, 4, endingAt: 48); dash()
            digits(low, 12, endingAt: 0)
            return index
        }
    }
}
