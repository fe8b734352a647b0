import Foundation
import Testing

@testable import ChatTokenizer
import TestSupport

/// `JoinedTextCounter` must count exactly what `count(texts.joined(separator: " "))` counts.
@Suite struct JoinedTextCounterTests {
    /// Pieces of adversarial text: every kind of white space, letters of each case class,
    /// combining marks, digits of several scripts, contractions, punctuation, CJK, emoji, special
    /// tokens of both encodings and fragments of them.
    static let atoms: [String] = [
        " ", "  ", "\t", "\r", "\n", "\r\n", " \n ", "\u{A0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{0B}",
        "a", "Z", "hello", "World", "ABC", "don", "x", "é", "ß", "ſ", "ǅ", "ʰ", "ж", "Ω", "\u{301}", "e\u{301}",
        "1", "42", "123456", "٣", "Ⅻ", "½",
        "'", "'s", "'t", "'re", "'ll", "'ve", "'m", "'d", "'S", "'LL", "'Re",
        ".", "!", "?", "/", "-", "...", "\"", "(", ")", "<", "|", ">", "{", "}", "#", "=",
        "中", "文", "の", "한", "🙂", "👍🏽", "\u{200D}", "👩‍💻",
        "<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
        "<|endof", "text|>", "<|", "|>", "<|endoftext", "|endoftext|>",
    ]

    static func randomText(using random: inout SplitMix64) -> String {
        switch Int.random(in: 0..<20, using: &random) {
        case 0: return ""
        case 1: return String(repeating: [" ", "\n", "\t", " \r\n"].randomElement(using: &random)!, count: Int.random(in: 1...4, using: &random))
        default: return (0..<Int.random(in: 1...8, using: &random)).map { _ in atoms.randomElement(using: &random)! }.joined()
        }
    }

    /// Windows of up to 12 random texts, each prepend checked against a full count.
    /// Yields now and then: a long CPU-bound test must not starve the other suites' tasks.
    static func checkRandomJoins(_ tokenizer: Tokenizer, seed: UInt64, joins: Int) async -> Int {
        var random = SplitMix64(seed: seed)
        var failures = 0
        var done = 0
        while done < joins {
            await Task.yield()
            var counter = tokenizer.joinedCounter()
            var texts: [String] = []
            for _ in 0..<Int.random(in: 1...12, using: &random) where done < joins {
                let text = randomText(using: &random)
                texts.insert(text, at: 0)
                let got = counter.prepend(text)
                let expected = tokenizer.count(texts.joined(separator: " "))
                done += 1
                if got != expected || counter.count != got {
                    failures += 1
                    if failures <= 3 { Issue.record("\(tokenizer.name) seed \(seed) texts \(texts.debugDescription): \(got), expected \(expected)") }
                    break
                }
            }
        }
        return failures
    }

    /// 4 seeds × 2 encodings × 13,000 joins: 104,000 random joins, run as parallel cases.
    @Test(arguments: Tokenizer.BundledEncoding.allCases, 1...4 as ClosedRange<UInt64>)
    func equalsCountOfTheJoinedText(_ encoding: Tokenizer.BundledEncoding, seed: UInt64) async throws {
        let tokenizer = try Tokenizer.bundled(encoding)
        #expect(await Self.checkRandomJoins(tokenizer, seed: seed * 1_000 + (encoding == .cl100kBase ? 0 : 1), joins: 13_000) == 0)
    }

    @Test func emptyAndWhitespaceTexts() throws {
        let tokenizer = try Tokenizer.cl100kBase()
        var counter = tokenizer.joinedCounter()
        #expect(counter.count == 0 && counter.textCount == 0)
        #expect(counter.prepend("") == 0)
        #expect(counter.textCount == 1)
        // [" ", ""] joins to "  ": the empty text still brings its separator.
        #expect(counter.prepend(" ") == tokenizer.count("  "))
        #expect(counter.prepend("") == tokenizer.count("   "))
        #expect(counter.prepend("hi<|endoftext|>") == tokenizer.count("hi<|endoftext|>    "))
        #expect(counter.textCount == 4)
    }

    /// A tokenizer whose special token contains a space recounts the whole text, still exactly.
    @Test func specialTokenWithASpace() throws {
        let tokenizer = try Tokenizer(
            name: "tiny", rankFileContents: RankFileTests.rankFile(), pattern: .cl100k,
            specialTokens: ["<| |>": 300, "<|end|>": 301])
        var counter = tokenizer.joinedCounter()
        var texts: [String] = []
        var recounted = 0
        for text in ["|>ab", "abc<|", "<|end|>", "x <|", "", "<| |>"] {
            texts.insert(text, at: 0)
            let joined = texts.joined(separator: " ")
            #expect(counter.prepend(text) == tokenizer.count(joined), "\(texts)")
            recounted += joined.utf8.count
        }
        #expect(counter.scannedBytes == recounted)
        #expect(tokenizer.encode("<| |>") == [300])
    }

    /// A 300-message window of about 70,000 tokens: every prepend tokenizes the new message and
    /// a little of the old text, never the whole window again.
    @Test(arguments: Tokenizer.BundledEncoding.allCases)
    func workGrowsWithTheTextsNotTheWindows(_ encoding: Tokenizer.BundledEncoding) throws {
        let tokenizer = try Tokenizer.bundled(encoding)
        var random = SplitMix64(seed: 99)
        let words = ["the", "model", "answer", "is", "42", "tokens", "don't", "Redis", "list", "(see", "below).", "\n\n", "日本語", "🙂", "x = f(y);", "   "]
        let messages = (0..<300).map { _ in
            (0..<Int.random(in: 30...280, using: &random)).map { _ in words.randomElement(using: &random)! }.joined(separator: " ")
        }
        var counter = tokenizer.joinedCounter()
        for message in messages.reversed() { counter.prepend(message) }
        let joined = messages.joined(separator: " ")
        #expect(counter.count == tokenizer.count(joined))
        #expect(counter.count > 30_000)
        let bytes = joined.utf8.count
        #expect(counter.scannedBytes >= bytes)
        #expect(counter.scannedBytes < bytes + 300 * 64, "scanned \(counter.scannedBytes) of \(bytes) bytes")
        print("\(encoding.rawValue): 300 messages, \(bytes) bytes, \(counter.count) tokens, \(counter.scannedBytes) bytes tokenized")
    }
}
