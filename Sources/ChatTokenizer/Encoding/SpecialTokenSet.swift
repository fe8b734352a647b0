/// The special tokens of an encoding, found in UTF-8 text by a scan for their first bytes.
struct SpecialTokenSet: Sendable {
    struct Token: Sendable {
        var bytes: [UInt8]
        var id: Int
    }

    /// Longest first, so that of two tokens starting at the same byte the longer one wins.
    private let tokens: [Token]
    private let isFirstByte: [Bool]
    private let bytesByID: [Int: [UInt8]]

    var isEmpty: Bool { tokens.isEmpty }

    init(_ specialTokens: [String: Int]) {
        tokens = specialTokens.map { Token(bytes: Array($0.key.utf8), id: $0.value) }
            .filter { !$0.bytes.isEmpty }
            .sorted { ($0.bytes.count, $1.id) > ($1.bytes.count, $0.id) }
        var isFirstByte = [Bool](repeating: false, count: 256)
        for token in tokens { isFirstByte[Int(token.bytes[0])] = true }
        self.isFirstByte = isFirstByte
        bytesByID = Dictionary(tokens.map { ($0.id, $0.bytes) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether some special token contains `byte`.
    func anyContains(_ byte: UInt8) -> Bool { tokens.contains { $0.bytes.contains(byte) } }

    /// The bytes a special token id stands for.
    func bytes(ofID id: Int) -> [UInt8]? { bytesByID[id] }

    /// The leftmost special token in `text[from...]`: where it starts, where it ends, its id.
    func firstMatch(in text: UnsafeBufferPointer<UInt8>, from: Int) -> (start: Int, end: Int, id: Int)? {
        var i = from
        while i < text.count {
            if isFirstByte[Int(text[i])] {
                for token in tokens where matches(token.bytes, text, at: i) {
                    return (i, i + token.bytes.count, token.id)
                }
            }
            i += 1
        }
        return nil
    }

    private func matches(_ token: [UInt8], _ text: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard text.count - i >= token.count else { return false }
        for k in 0..<token.count where text[i + k] != token[k] { return false }
        return true
    }
}
