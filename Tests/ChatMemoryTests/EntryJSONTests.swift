import Foundation
import Testing
@testable import ChatMemory

/// The fast entry codec against Foundation's JSON: same messages, same verdicts.
@Suite struct EntryJSONTests {
    static let pieces = ["a", "Z", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}", "é", "漢", "🧪",
                         "👩‍👩‍👧", "\u{2028}", "%s", "{", "}", "[", ":", ",", "null", "\\u0041"]

    static func randomText(_ generator: inout SystemRandomNumberGenerator, maxLength: Int = 12) -> String {
        (0..<Int.random(in: 0...maxLength, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    static func randomMessage(_ generator: inout SystemRandomNumberGenerator) -> ChatMessage {
        let calls = (0..<Int.random(in: 0...2, using: &generator)).map { _ in
            ChatMessage.ToolCall(id: randomText(&generator), name: randomText(&generator), arguments: randomText(&generator))
        }
        var metadata: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...3, using: &generator) { metadata[randomText(&generator)] = randomText(&generator) }
        return ChatMessage(
            id: randomText(&generator) + "x", role: ChatMessage.Role.allCases.randomElement(using: &generator)!,
            content: randomText(&generator, maxLength: 40), name: Bool.random(using: &generator) ? randomText(&generator) : nil,
            toolCalls: calls, toolCallID: Bool.random(using: &generator) ? randomText(&generator) : nil,
            metadata: metadata, createdAt: Date(timeIntervalSince1970: Double.random(in: -1e9...4e9, using: &generator)))
    }

    @Test func encodedEntriesRoundTripAndAreValidJSON() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let message = Self.randomMessage(&generator)
            let entry = StoredEntry.encode(message, tokens: 42, counter: "c\"1")
            let fast = try #require(EntryJSON.parse(entry.bytes).flatMap { _ in StoredEntry.decode(entry.bytes) })
            #expect(fast.message == message && fast.tokens == 42 && fast.counter == "c\"1")
            let slow = try #require(StoredEntry.decodedWithFoundation(entry.bytes), "Foundation rejects \(String(decoding: entry.bytes, as: UTF8.self))")
            #expect(slow.message == message && slow.tokens == 42)
            #expect(entry.bytes.starts(with: entry.idPrefix))
        }
    }

    @Test func readsWhatJSONEncoderWrites() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let message = Self.randomMessage(&generator)
            let bytes = Array(try message.jsonData())
            let value = try #require(EntryJSON.parse(bytes))
            let fast = try #require(EntryJSON.message(from: value))
            #expect(fast == message)
        }
    }

    @Test(arguments: [
        #"{"id":"1","role":"user","content":"hi"}"#,
        #"{"id":"1","role":"user","content":"h\u00e9"}"#,
        #"{"id":"1","role":"user","created_at":1.5e3}"#,
        #"{"id":"1","role":"user","created_at":1700000000123.6}"#,
        #"{"id":"1","role":"wizard"}"#,
        #"{"id":1,"role":"user"}"#,
        #"{"id":"1","role":"user","content":null,"name":null,"metadata":null,"tool_calls":null}"#,
        #"{"id":"1","role":"user","metadata":{"a":1}}"#,
        #"{"id":"1","role":"user","tool_calls":[{"id":"c"}]}"#,
        #"{"id":"1","role":"user","tool_calls":[1]}"#,
        #"{"message":{"id":"1","role":"tool","content":"x"},"tokens":"3"}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":3,"counter":7}"#,
        #"{"message":{"id":"1","role":"tool"}}"#,
        #"{"message":"not an object","id":"2","role":"user"}"#,
        #"{"id":"1","role":"user"} trailing"#,
        #"{"id":"1","role":"user","content":"\ud83e\uddea"}"#,
        "written by hand", "", "{", "[]", "null", "{\"id\":\"1\",\"role\":\"user\",\"content\":\"raw tab\tinside\"}",
    ])
    func agreesWithFoundationOnOddEntries(text: String) {
        let bytes = Array(text.utf8)
        let ours = StoredEntry.decode(bytes)
        let foundation = StoredEntry.decodedWithFoundation(bytes)
        #expect(ours?.message == foundation?.message)
        #expect(ours?.tokens == foundation?.tokens && ours?.counter == foundation?.counter)
    }

    @Test func invalidUTF8IsLeftToFoundation() {
        let bytes = Array(#"{"id":"1","role":"user","content":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(StoredEntry.decode(bytes)?.message == StoredEntry.decodedWithFoundation(bytes)?.message)
    }
}
