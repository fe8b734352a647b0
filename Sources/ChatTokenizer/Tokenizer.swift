import Foundation

/// A byte-pair-encoding tokenizer that produces exactly tiktoken's token ids.
///
/// ```swift
/// let tokenizer = try Tokenizer.cl100kBase()
/// let ids = tokenizer.encode("Hello, world!")        // [9906, 11, 1917, 0]
/// let n = tokenizer.count("Hello, world!")           // 4
/// let text = try tokenizer.decodeString(ids)         // "Hello, world!"
/// ```
///
/// Instances are immutable and safe to share between tasks.
public final class Tokenizer: Sendable {
    /// A pre-tokenization pattern: the regex that splits text into pieces before merging.
    public enum Pattern: Sendable, Hashable {
        /// The pattern of cl100k_base (GPT-3.5, GPT-4).
        case cl100k
        /// The pattern of o200k_base (GPT-4o and later).
        case o200k
    }

    /// The encoding's name, such as `cl100k_base`.
    public let name: String
    let encoder: TokenEncoder

    /// Loads an encoding from a `.tiktoken` rank file (`base64-token SPACE rank` per line).
    ///
    /// - Parameters:
    ///   - name: the encoding's name, such as `cl100k_base`.
    ///   - rankFile: the `.tiktoken` file.
    ///   - pattern: how the encoding splits text into pieces before merging.
    ///   - specialTokens: the special tokens' text and ids; ids must not be ranks in the file.
    ///   - expectedSHA256: if given, the file's SHA-256 in hex; a different file throws `hashMismatch`.
    public convenience init(
        name: String, rankFile: URL, pattern: Pattern, specialTokens: [String: Int], expectedSHA256: String? = nil
    ) throws(TokenizerError) {
        let contents: Data
        do {
            contents = try Data(contentsOf: rankFile)
        } catch {
            throw .unreadableRankFile(path: rankFile.path, reason: "\(error)")
        }
        try self.init(
            name: name, rankFileContents: contents, pattern: pattern,
            specialTokens: specialTokens, expectedSHA256: expectedSHA256)
    }

    /// Loads an encoding from the bytes of a `.tiktoken` rank file; see `init(name:rankFile:...)`.
    public init(
        name: String, rankFileContents: some DataProtocol, pattern: Pattern, specialTokens: [String: Int],
        expectedSHA256: String? = nil
    ) throws(TokenizerError) {
        let bytes = Array(rankFileContents)
        let ranks = try bytes.withUnsafeBytes { file in
            Result { () throws(TokenizerError) -> RankTable in
                if let expectedSHA256 {
                    let actual = SHA256.hexDigest(of: file)
                    guard actual == expectedSHA256.lowercased() else {
                        throw .hashMismatch(expected: expectedSHA256, actual: actual)
                    }
                }
                return try RankTable(ParsedRankFile(file))
            }
        }.get()
        for (text, id) in specialTokens where ranks.bytes(ofRank: id) != nil {
            throw .conflictingSpecialToken(text)
        }
        self.name = name
        encoder = TokenEncoder(
            ranks: ranks, specials: SpecialTokenSet(specialTokens), pattern: pattern, classes: .shared)
    }

    /// The token ids of `text`.
    public func encode(_ text: String, specialTokens: SpecialTokenHandling = .allowAll) -> [Int] {
        var collector = TokenCollector()
        var text = text
        text.withUTF8 { bytes in
            collector.tokens.reserveCapacity(bytes.count / 3 + 8)
            encoder.encode(bytes, specialTokens: specialTokens, into: &collector)
        }
        return collector.tokens
    }

    /// The token ids of UTF-8 `bytes`. Invalid UTF-8 is first repaired the way Python's
    /// `bytes.decode("utf-8", errors="replace")` does it: each maximal invalid subsequence becomes
    /// U+FFFD. The result equals tiktoken's `encode` of that repaired string.
    public func encode(bytes: some Sequence<UInt8>, specialTokens: SpecialTokenHandling = .allowAll) -> [Int] {
        encode(String(decoding: Array(bytes), as: UTF8.self), specialTokens: specialTokens)
    }

    /// The number of tokens in `text`, without building the token array.
    public func count(_ text: String, specialTokens: SpecialTokenHandling = .allowAll) -> Int {
        var counter = TokenCounter()
        var text = text
        text.withUTF8 { encoder.encode($0, specialTokens: specialTokens, into: &counter) }
        return counter.count
    }

    /// The bytes that `tokens` stand for. Throws `unknownTokenID` for an id the encoding lacks.
    public func decode(_ tokens: [Int]) throws(TokenizerError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 4)
        for token in tokens {
            if let tokenBytes = encoder.ranks.bytes(ofRank: token) {
                bytes.append(contentsOf: tokenBytes)
            } else if let special = encoder.specials.bytes(ofID: token) {
                bytes.append(contentsOf: special)
            } else {
                throw .unknownTokenID(token)
            }
        }
        return bytes
    }

    /// The text that `tokens` stand for; bytes that are not valid UTF-8 (a token sequence cut
    /// inside a character) become U+FFFD, like tiktoken's `decode`.
    public func decodeString(_ tokens: [Int]) throws(TokenizerError) -> String {
        String(decoding: try decode(tokens), as: UTF8.self)
    }
}
