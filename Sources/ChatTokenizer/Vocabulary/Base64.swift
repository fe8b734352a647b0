/// A standard-alphabet base64 decoder for rank-file tokens.
enum Base64 {
    /// Decodes `file[range]` (padding optional) and appends the bytes to `output`.
    /// Returns false, leaving partial output, if a character is outside the alphabet.
    static func decode(_ file: UnsafeRawBufferPointer, _ range: Range<Int>, appendingTo output: inout [UInt8]) -> Bool {
        var buffer: UInt32 = 0
        var bits = 0
        for i in range {
            let character = file[i]
            if character == UInt8(ascii: "=") { break }
            let value = sextet[Int(character)]
            if value == invalid { return false }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return true
    }

    private static let invalid: UInt8 = 0xFF

    /// The 6-bit value of each ASCII byte, or `invalid`.
    private static let sextet: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, character) in alphabet.enumerated() { table[Int(character)] = UInt8(value) }
        return table
    }()
}
