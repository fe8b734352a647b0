/// A read-only view of valid UTF-8 text that the pattern scanners walk scalar by scalar.
///
/// The bytes belong to the caller and must outlive the view; `end` is the end of the segment
/// being split (special tokens cut a text into segments that are split independently).
struct UTF8Text {
    let base: UnsafePointer<UInt8>
    let end: Int
    let classes: UnsafePointer<UInt8>

    /// The scalar starting at byte `i` and its length in bytes.
    @inline(__always)
    func scalar(at i: Int) -> (value: UInt32, length: Int) {
        let lead = base[i]
        if lead < 0x80 { return (UInt32(lead), 1) }
        if lead < 0xE0 { return (UInt32(lead & 0x1F) << 6 | UInt32(base[i + 1] & 0x3F), 2) }
        if lead < 0xF0 {
            return (UInt32(lead & 0x0F) << 12 | UInt32(base[i + 1] & 0x3F) << 6 | UInt32(base[i + 2] & 0x3F), 3)
        }
        let value = UInt32(lead & 0x07) << 18 | UInt32(base[i + 1] & 0x3F) << 12
            | UInt32(base[i + 2] & 0x3F) << 6 | UInt32(base[i + 3] & 0x3F)
        return (value, 4)
    }

    /// The class of the scalar starting at byte `i` and its length in bytes.
    @inline(__always)
    func classAt(_ i: Int) -> (ScalarClass, length: Int) {
        let lead = base[i]
        if lead < 0x80 { return (ScalarClass(rawValue: classes[Int(lead)]), 1) }
        let (value, length) = scalar(at: i)
        return (classOf(value), length)
    }

    @inline(__always)
    func classOf(_ value: UInt32) -> ScalarClass {
        value < ScalarClassTable.limit ? ScalarClass(rawValue: classes[Int(value)]) : ScalarClass(of: value)
    }

    /// The end of the run of scalars from `i` whose class meets `wanted`.
    @inline(__always)
    func skip(_ wanted: ScalarClass, from i: Int) -> Int {
        var i = i
        while i < end {
            let (found, length) = classAt(i)
            if found.isDisjoint(with: wanted) { break }
            i += length
        }
        return i
    }

    /// The end of the run of scalars from `i` in `[^\s\p{L}\p{N}]`.
    @inline(__always)
    func skipPunctuation(from i: Int) -> Int {
        var i = i
        while i < end {
            let (found, length) = classAt(i)
            if !found.isDisjoint(with: .notPunctuation) { break }
            i += length
        }
        return i
    }

    /// Whether the scalar at `i` exists and is in `[^\s\p{L}\p{N}]`.
    @inline(__always)
    func isPunctuation(at i: Int) -> Bool {
        i < end && classAt(i).0.isDisjoint(with: .notPunctuation)
    }

    /// The white-space run from `i`: its end, the start of its last scalar, and the end of its
    /// last `\r` or `\n` (nil if none).
    @inline(__always)
    func whitespaceRun(from i: Int) -> (end: Int, lastStart: Int, newlineEnd: Int?) {
        var position = i
        var lastStart = i
        var newlineEnd: Int?
        while position < end {
            let (found, length) = classAt(position)
            if !found.contains(.whitespace) { break }
            lastStart = position
            position += length
            if found.contains(.newline) { newlineEnd = position }
        }
        return (position, lastStart, newlineEnd)
    }

    /// The length of an English contraction suffix (`s t m d` or `ll ve re`, any case, with `ſ`
    /// as a case of `s`) starting at `i`, just after an apostrophe.
    @inline(__always)
    func contractionSuffixLength(at i: Int) -> Int? {
        guard i < end else { return nil }
        // OR-ing 0x20 lowercases ASCII letters; only "S"/"s" become "s", and so on.
        let first = base[i] | 0x20
        switch first {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 1
        case UInt8(ascii: "l"), UInt8(ascii: "v"), UInt8(ascii: "r"):
            let expected = first == UInt8(ascii: "l") ? UInt8(ascii: "l") : UInt8(ascii: "e")
            return i + 1 < end && base[i + 1] | 0x20 == expected ? 2 : nil
        default:
            // U+017F LATIN SMALL LETTER LONG S (C5 BF) folds to "s".
            return base[i] == 0xC5 && i + 1 < end && base[i + 1] == 0xBF ? 2 : nil
        }
    }
}
