import Foundation
import Testing

@testable import ChatTokenizer

@Suite struct TokenizerTests {
    @Test func namesAndKnownIDs() throws {
        let cl100k = try Tokenizer.cl100kBase()
        #expect(cl100k.name == "cl100k_base")
        #expect(cl100k.encode("Hello, world!") == [9906, 11, 1917, 0])
        #expect(try Tokenizer.o200kBase().name == "o200k_base")
        #expect(try Tokenizer.cl100kBase() === cl100k)
    }

    @Test func specialTokenHandling() throws {
        let tokenizer = try Tokenizer.cl100kBase()
        #expect(tokenizer.encode("a<|endoftext|>b") == [64, 100_257, 65])
        #expect(tokenizer.encode("a<|endoftext|>b", specialTokens: .plainText).count > 3)
        #expect(tokenizer.count("<|fim_prefix|><|endofprompt|>") == 2)
        #expect(try tokenizer.decodeString([64, 100_257, 65]) == "a<|endoftext|>b")
    }

    @Test func invalidUTF8IsRepairedWithReplacementCharacters() throws {
        let tokenizer = try Tokenizer.o200kBase()
        let bytes: [UInt8] = [0x61, 0xFF, 0xE2, 0x82, 0x62]
        #expect(tokenizer.encode(bytes: bytes) == tokenizer.encode("a\u{FFFD}\u{FFFD}b"))
    }

    @Test func decodeRejectsUnknownIDs() throws {
        let tokenizer = try Tokenizer.cl100kBase()
        #expect(throws: TokenizerError.unknownTokenID(100_261)) { try tokenizer.decode([100_261]) }
        #expect(throws: TokenizerError.unknownTokenID(-1)) { try tokenizer.decode([-1]) }
    }

    @Test func decodeStringReplacesSplitCharacters() throws {
        let tokenizer = try Tokenizer.cl100kBase()
        let tokens = tokenizer.encode("🫠")
        #expect(tokens.count > 1)
        #expect(try tokenizer.decodeString(Array(tokens.prefix(1))) == "\u{FFFD}")
    }

    @Test func longPiecesMergeLikeShortOnes() throws {
        // Runs longer than BytePairMerger.smallPieceLimit take the heap path.
        let tokenizer = try Tokenizer.cl100kBase()
        let word = String(repeating: "ab", count: 400)
        let tokens = tokenizer.encode(word)
        #expect(try tokenizer.decode(tokens) == Array(word.utf8))
        #expect(tokens.count == tokenizer.count(word))
    }
}
