import Foundation
import Testing

@testable import ChatTokenizer

/// Compares the tokenizer with Python tiktoken on the committed fixtures written by
/// Scripts/tokenizer-fixtures.py.
@Suite struct FixtureTests {
    /// One fixture line: input bytes, ids with special tokens allowed, and ids as plain text.
    struct Case: Decodable {
        var input: Data
        var all: [Int]
        var plain: [Int]?

        enum CodingKeys: String, CodingKey {
            case input = "in"
            case all
            case plain
        }
    }

    static func cases(_ encoding: Tokenizer.BundledEncoding) throws -> [Case] {
        let url = try #require(Bundle.module.url(forResource: encoding.rawValue, withExtension: "jsonl", subdirectory: "Fixtures"))
        let decoder = JSONDecoder()
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try decoder.decode(Case.self, from: Data($0.utf8))
        }
    }

    @Test(arguments: Tokenizer.BundledEncoding.allCases)
    func matchesTiktoken(_ encoding: Tokenizer.BundledEncoding) async throws {
        let tokenizer = try Tokenizer.bundled(encoding)
        let cases = try Self.cases(encoding)
        #expect(cases.count >= 2_000)
        var failures = 0
        for (index, fixture) in cases.enumerated() {
            if index % 64 == 0 { await Task.yield() }   // never starve the other suites' tasks
            let plain = fixture.plain ?? fixture.all
            let gotAll = tokenizer.encode(bytes: fixture.input)
            let gotPlain = tokenizer.encode(bytes: fixture.input, specialTokens: .plainText)
            let text = String(decoding: fixture.input, as: UTF8.self)
            let counts = (tokenizer.count(text), tokenizer.count(text, specialTokens: .plainText))
            guard gotAll == fixture.all, gotPlain == plain, counts == (fixture.all.count, plain.count) else {
                failures += 1
                if failures <= 5 {
                    Issue.record("""
                        \(encoding.rawValue) case \(index + 1) input \(fixture.input.base64EncodedString()):
                        expected \(fixture.all) / \(plain), got \(gotAll) / \(gotPlain)
                        """)
                }
                continue
            }
        }
        print("\(encoding.rawValue): \(cases.count - failures) of \(cases.count) fixture cases match tiktoken")
        #expect(failures == 0)
    }

    @Test(arguments: Tokenizer.BundledEncoding.allCases)
    func decodeInvertsEncodeForValidUTF8(_ encoding: Tokenizer.BundledEncoding) throws {
        let tokenizer = try Tokenizer.bundled(encoding)
        var checked = 0
        for fixture in try Self.cases(encoding) where String(validatingUTF8: fixture.input) != nil {
            let bytes = [UInt8](fixture.input)
            #expect(try tokenizer.decode(tokenizer.encode(bytes: bytes)) == bytes)
            #expect(try tokenizer.decode(tokenizer.encode(bytes: bytes, specialTokens: .plainText)) == bytes)
            checked += 1
        }
        #expect(checked > 1_500)
    }
}

extension String {
    /// The string if `data` is valid UTF-8.
    fileprivate init?(validatingUTF8 data: Data) {
        self.init(data: data, encoding: .utf8)
    }
}
