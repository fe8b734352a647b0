import Foundation
import Testing

@testable import ChatTokenizer

@Suite struct RankFileTests {
    /// A rank file with every single byte, then "ab" and "abc".
    static func rankFile(extraLines: [String] = ["YWI= 256", "YWJj 257"]) -> [UInt8] {
        let lines = (0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \($0)" } + extraLines
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    @Test func loadsAndMerges() throws {
        let tokenizer = try Tokenizer(
            name: "tiny", rankFileContents: Self.rankFile(), pattern: .cl100k, specialTokens: ["<|end|>": 300])
        #expect(tokenizer.encode("abc abcd") == [257, 32, 257, 100])
        #expect(tokenizer.encode("ab<|end|>") == [256, 300])
        #expect(try tokenizer.decode([257, 300]) == Array("abc<|end|>".utf8))
    }

    @Test func rejectsMalformedLines() {
        #expect(throws: TokenizerError.malformedRankFile(line: 257, reason: "no space between token and rank")) {
            try Tokenizer(name: "bad", rankFileContents: Self.rankFile(extraLines: ["YWI="]), pattern: .cl100k, specialTokens: [:])
        }
        #expect(throws: TokenizerError.malformedRankFile(line: 257, reason: "token is not non-empty base64")) {
            try Tokenizer(name: "bad", rankFileContents: Self.rankFile(extraLines: ["!! 256"]), pattern: .cl100k, specialTokens: [:])
        }
        #expect(throws: TokenizerError.malformedRankFile(line: 257, reason: "rank is not a number")) {
            try Tokenizer(name: "bad", rankFileContents: Self.rankFile(extraLines: ["YWI= x"]), pattern: .cl100k, specialTokens: [:])
        }
    }

    @Test func rejectsMissingBytesAndConflicts() {
        let withoutZero = Array(String(decoding: Self.rankFile(), as: UTF8.self).split(separator: "\n").dropFirst().joined(separator: "\n").utf8)
        #expect(throws: TokenizerError.missingByteToken(0)) {
            try Tokenizer(name: "bad", rankFileContents: withoutZero, pattern: .cl100k, specialTokens: [:])
        }
        #expect(throws: TokenizerError.conflictingSpecialToken("<|x|>")) {
            try Tokenizer(name: "bad", rankFileContents: Self.rankFile(), pattern: .cl100k, specialTokens: ["<|x|>": 256])
        }
    }

    @Test func verifiesTheHash() throws {
        let file = Self.rankFile()
        let digest = file.withUnsafeBytes { SHA256.hexDigest(of: $0) }
        _ = try Tokenizer(name: "ok", rankFileContents: file, pattern: .o200k, specialTokens: [:], expectedSHA256: digest)
        let wrong = String(repeating: "0", count: 64)
        #expect(throws: TokenizerError.hashMismatch(expected: wrong, actual: digest)) {
            try Tokenizer(name: "bad", rankFileContents: file, pattern: .o200k, specialTokens: [:], expectedSHA256: wrong)
        }
    }

    @Test func unreadableFile() {
        let url = URL(fileURLWithPath: "/nonexistent/x.tiktoken")
        #expect(throws: (any Error).self) {
            try Tokenizer(name: "bad", rankFile: url, pattern: .cl100k, specialTokens: [:])
        }
    }

    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func sha256KnownAnswers(_ input: String, _ digest: String) {
        #expect(Array(input.utf8).withUnsafeBytes { SHA256.hexDigest(of: $0) } == digest)
    }
}
