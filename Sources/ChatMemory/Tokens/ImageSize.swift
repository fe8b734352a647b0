/// An image's size in pixels, read from the header of PNG, JPEG, GIF or WebP bytes (nothing
/// else is decoded); `nil` for other or truncated bytes.
struct ImageSize: Hashable {
    let width: Int
    let height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(_ bytes: [UInt8]) {
        guard let size = Self.png(bytes) ?? Self.gif(bytes) ?? Self.webp(bytes) ?? Self.jpeg(bytes),
              size.width > 0, size.height > 0 else { return nil }
        (width, height) = size
    }

    private static func bigEndian(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= bytes.count else { return nil }
        return bytes[at..<at + count].reduce(0) { $0 << 8 | Int($1) }
    }

    private static func littleEndian(_ bytes: [UInt8], _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= bytes.count else { return nil }
        return bytes[at..<at + count].reversed().reduce(0) { $0 << 8 | Int($1) }
    }

    private static func starts(_ bytes: [UInt8], with prefix: [UInt8], at offset: Int = 0) -> Bool {
        bytes.count >= offset + prefix.count && bytes[offset..<offset + prefix.count].elementsEqual(prefix)
    }

    /// PNG: the signature, then the IHDR chunk's width and height.
    private static func png(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard starts(bytes, with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), starts(bytes, with: Array("IHDR".utf8), at: 12),
              let width = bigEndian(bytes, 16, 4), let height = bigEndian(bytes, 20, 4) else { return nil }
        return (width, height)
    }

    /// GIF: the logical screen's width and height.
    private static func gif(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard starts(bytes, with: Array("GIF87a".utf8)) || starts(bytes, with: Array("GIF89a".utf8)),
              let width = littleEndian(bytes, 6, 2), let height = littleEndian(bytes, 8, 2) else { return nil }
        return (width, height)
    }

    /// WebP: the VP8 (lossy), VP8L (lossless) or VP8X (extended) chunk's canvas size.
    private static func webp(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard starts(bytes, with: Array("RIFF".utf8)), starts(bytes, with: Array("WEBP".utf8), at: 8) else { return nil }
        if starts(bytes, with: Array("VP8 ".utf8), at: 12), let w = littleEndian(bytes, 26, 2), let h = littleEndian(bytes, 28, 2) {
            return (w & 0x3FFF, h & 0x3FFF)
        }
        if starts(bytes, with: Array("VP8L".utf8), at: 12), bytes.count > 20, bytes[20] == 0x2F, let bits = littleEndian(bytes, 21, 4) {
            return ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        if starts(bytes, with: Array("VP8X".utf8), at: 12), let w = littleEndian(bytes, 24, 3), let h = littleEndian(bytes, 27, 3) {
            return (w + 1, h + 1)
        }
        return nil
    }

    /// JPEG: walks the segments to the first start-of-frame marker (SOF0 to SOF15, not DHT,
    /// JPG or DAC), whose height and width follow the precision byte.
    private static func jpeg(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        guard starts(bytes, with: [0xFF, 0xD8]) else { return nil }
        var at = 2
        while at + 4 <= bytes.count {
            guard bytes[at] == 0xFF else { return nil }
            let marker = bytes[at + 1]
            if marker == 0xFF { at += 1; continue }                  // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { at += 2; continue }
            guard let length = bigEndian(bytes, at + 2, 2), length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard let height = bigEndian(bytes, at + 5, 2), let width = bigEndian(bytes, at + 7, 2) else { return nil }
                return (width, height)
            }
            at += 2 + length
        }
        return nil
    }
}
