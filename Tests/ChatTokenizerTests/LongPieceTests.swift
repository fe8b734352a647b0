import Testing

@testable import ChatTokenizer
import TestSupport

/// The heap merge that long pieces take must give exactly the tokens of the linear-scan merge
/// of short pieces, whatever the piece; and long unbroken text must encode at all.
@Suite struct LongPieceTests {
    /// Byte sources for random pieces: runs that merge a lot, runs that barely merge, and bytes
    /// that are not UTF-8 (the merger works on any bytes).
    static let alphabets: [[[UInt8]]] = [
        "abcdefghijklmnopqrstuvwxyz".map { [UInt8($0.asciiValue!)] },
        [Array("a".utf8)],
        [Array("a".utf8), Array("b".utf8)],
        [Array(" ".utf8)],
        [" ", "\n", "\t", "\r"].map { Array($0.utf8) },
        ["=", "-", "_", "*", "#", "/", "."].map { Array($0.utf8) },
        "0123456789".map { [UInt8($0.asciiValue!)] },
        ["é", "ü", "ß", "ж", "ш", "ا", "न", "्", "\u{301}"].map { Array($0.utf8) },
        ["中", "文", "字", "の", "한", "🙂", "👍🏽", "\u{200D}"].map { Array($0.utf8) },
        ["ing", "tion", "the", "ab", "aa", "er", "ll"].map { Array($0.utf8) },
        (0...255).map { [UInt8($0)] },
    ]

    static func randomPiece(length: Int, alphabet: [[UInt8]], using random: inout SplitMix64) -> [UInt8] {
        var piece: [UInt8] = []
        while piece.count < length { piece += alphabet.randomElement(using: &random)! }
        return Array(piece.prefix(length))
    }

    /// The three merges' tokens for one piece: linear scan, heap with 32-bit and 64-bit offsets.
    static func merges(_ piece: [UInt8], _ ranks: RankTable) -> (small: [Int], long32: [Int], long64: [Int]) {
        piece.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            var small = TokenCollector()
            var long32 = TokenCollector()
            var long64 = TokenCollector()
            BytePairMerger.encodeSmall(base, count: buffer.count, ranks: ranks, into: &small)
            BytePairMerger.encodeLong(base, count: buffer.count, offsets: UInt32.self, ranks: ranks, into: &long32)
            BytePairMerger.encodeLong(base, count: buffer.count, offsets: UInt64.self, ranks: ranks, into: &long64)
            return (small.tokens, long32.tokens, long64.tokens)
        }
    }

    @Test(arguments: Tokenizer.BundledEncoding.allCases)
    func heapMergeEqualsLinearMerge(_ encoding: Tokenizer.BundledEncoding) async throws {
        let ranks = try Tokenizer.bundled(encoding).encoder.ranks
        var random = SplitMix64(seed: encoding == .cl100kBase ? 1 : 2)
        let limit = BytePairMerger.smallPieceLimit
        var failures = 0
        for round in 0..<3_000 {
            if round % 64 == 0 { await Task.yield() }   // never starve the other suites' tasks
            // Mostly lengths around the threshold between the two merges, some far from it.
            let length = switch round % 4 {
            case 0: Int.random(in: limit - 8...limit + 8, using: &random)
            case 1: Int.random(in: 2...limit, using: &random)
            case 2: Int.random(in: limit...3 * limit, using: &random)
            default: round % 100 == 3 ? Int.random(in: 600...1_500, using: &random) : Int.random(in: 2...600, using: &random)
            }
            let alphabet = Self.alphabets[round % Self.alphabets.count]
            let piece = Self.randomPiece(length: length, alphabet: alphabet, using: &random)
            let (small, long32, long64) = Self.merges(piece, ranks)
            if small != long32 || small != long64 {
                failures += 1
                if failures <= 3 { Issue.record("\(encoding.rawValue) piece \(piece): \(small) / \(long32) / \(long64)") }
            }
        }
        #expect(failures == 0)
    }

    /// Long single pieces (the hostile inputs: one huge word, one repeated character, a
    /// punctuation run, CJK) encode, count and decode back, in both encodings. Kept to tens of
    /// kilobytes for debug builds; Scripts/bench-tokenizer.sh runs 16 MiB pieces.
    @Test(arguments: Tokenizer.BundledEncoding.allCases)
    func longUnbrokenTextRoundTrips(_ encoding: Tokenizer.BundledEncoding) throws {
        let tokenizer = try Tokenizer.bundled(encoding)
        var random = SplitMix64(seed: 3)
        let texts = [
            String((0..<40_000).map { _ in "abcdefghijklmnopqrstuvwxyz".randomElement(using: &random)! }),
            String(repeating: "a", count: 1 << 16),
            String((0..<20_000).map { _ in "=-_*#/.!".randomElement(using: &random)! }),
            String((0..<10_000).map { _ in Character(Unicode.Scalar(UInt32.random(in: 0x4E00...0x9FA0, using: &random))!) }),
        ]
        // tiktoken encodes a run of "a" as tokens of eight "a"s in both encodings.
        #expect(tokenizer.count(texts[1]) == (1 << 16) / 8)
        for text in texts {
            let tokens = tokenizer.encode(text)
            #expect(tokenizer.count(text) == tokens.count)
            #expect(try tokenizer.decode(tokens) == Array(text.utf8))
        }
    }
}
