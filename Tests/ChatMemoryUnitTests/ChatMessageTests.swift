import Foundation
import Testing
@testable import ChatMemory
import TestSupport

@Suite("ChatMessage")
struct ChatMessageTests {
    static let full = ChatMessage(
        id: "m1", role: .assistant, content: "héllo \r\n %s {*} \u{0}", name: "bot",
        toolCalls: [.init(id: "call_1", name: "weather", arguments: #"{"city": "Oslo",  "n":[1,2]}"#)],
        toolCallID: "call_0", metadata: ["trace": "abc", "someKey": "v"],
        createdAt: Date(timeIntervalSince1970: 1_735_787_045.678_9))

    @Test func roundTripIsExact() throws {
        let back = try ChatMessage(jsonData: Self.full.jsonData())
        #expect(back == Self.full)
        #expect(back.toolCalls[0].arguments == #"{"city": "Oslo",  "n":[1,2]}"#)
        #expect(ChatMessage.unixMilliseconds(back.createdAt) == 1_735_787_045_679)
    }

    @Test func createdAtIsKeptToTheMillisecond() throws {
        var message = ChatMessage.user("x")
        message.createdAt = Date(timeIntervalSince1970: 1.0004)
        #expect(message.createdAt == Date(timeIntervalSince1970: 1.0))
        for ms: Int64 in [0, 1, 999, 1_735_787_045_678, -1_234, 4_102_444_800_000] {
            let m = ChatMessage(id: "x", role: .user, content: "", createdAt: ChatMessage.date(unixMilliseconds: ms))
            let back = try ChatMessage(jsonData: m.jsonData())
            #expect(ChatMessage.unixMilliseconds(back.createdAt) == ms)
            #expect(back == m)
        }
    }

    @Test func encodedFormIsSnakeCaseAndOmitsEmptyFields() throws {
        let json = try JSONSerialization.jsonObject(with: Self.full.jsonData()) as! [String: Any]
        #expect(Set(json.keys) == ["id", "role", "content", "name", "tool_calls", "tool_call_id", "metadata", "created_at"])
        #expect(json["created_at"] as? Int == 1_735_787_045_679)
        #expect((json["metadata"] as? [String: String])?["someKey"] == "v")
        let minimal = ChatMessage(id: "m2", role: .user, content: "", createdAt: Date(timeIntervalSince1970: 0))
        #expect(String(decoding: try minimal.jsonData(), as: UTF8.self) == #"{"content":"","created_at":0,"id":"m2","role":"user"}"#)
        let none = ChatMessage(id: "m3", role: .assistant, content: nil, createdAt: Date(timeIntervalSince1970: 0))
        #expect(String(decoding: try none.jsonData(), as: UTF8.self) == #"{"created_at":0,"id":"m3","role":"assistant"}"#)
    }

    @Test func deeplyNestedInputIsAnErrorNotATrap() {
        for depth in [512, 513, 600, 10_000] {
            #expect(throws: DecodingError.self) { _ = try ChatMessage(jsonData: Data(repeating: UInt8(ascii: "["), count: depth)) }
        }
    }

    @Test func absentAndEmptyContentStayApartThroughEveryCodec() throws {
        for content in [nil, "", "x"] as [String?] {
            let message = ChatMessage(id: "m", role: .assistant, content: content, createdAt: Date(timeIntervalSince1970: 1))
            #expect(try ChatMessage(jsonData: message.jsonData()).content == content)
            let entry = StoredEntry.encode(message, tokens: 1, counter: "c")
            #expect(StoredEntry.decode(entry.bytes)?.message.content == content)
            #expect(StoredEntry.decodedWithFoundation(entry.bytes)?.message.content == content)
        }
        #expect(try ChatMessage(jsonData: Data(#"{"id":"1","role":"user","content":null}"#.utf8)).content == nil)
    }

    @Test func decodingDefaultsMissingFieldsAndIgnoresUnknownKeys() throws {
        let json = #"{"id":"m3","role":"tool","tool_call_id":"c1","future_field":{"x":[1]},"tool_calls":[{"id":"c","name":"f","arguments":"{}","extra":1}]}"#
        let message = try ChatMessage(jsonData: Data(json.utf8))
        #expect(message.id == "m3")
        #expect(message.role == .tool)
        #expect(message.content == nil)
        #expect(message.name == nil)
        #expect(message.toolCallID == "c1")
        #expect(message.toolCalls == [.init(id: "c", name: "f", arguments: "{}")])
        #expect(message.metadata.isEmpty)
        #expect(message.createdAt == Date(timeIntervalSince1970: 0))
        let fractional = try ChatMessage(jsonData: Data(#"{"id":"a","role":"user","created_at":1500.6}"#.utf8))
        #expect(ChatMessage.unixMilliseconds(fractional.createdAt) == 1501)
    }

    @Test(arguments: [
        #"{"id":"m","role":"developer","content":"x"}"#,   // unknown role
        #"{"id":"m","content":"x"}"#,                      // no role
        #"{"role":"user","content":"x"}"#,                 // no id
        #"{"id":"m","role":"user","created_at":"yesterday"}"#,
        #"not json"#,
    ])
    func invalidJSONThrows(_ json: String) {
        #expect(throws: DecodingError.self) { _ = try ChatMessage(jsonData: Data(json.utf8)) }
    }

    @Test func formDoesNotDependOnCallerStrategies() throws {
        // Explicit snake_case keys and an integer date: a caller's key or date strategy doesn't
        // change what is written (some Foundation versions also convert dictionary keys with
        // .convertToSnakeCase, which is why the store should use jsonData()/init(jsonData:)).
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        let plain = ChatMessage(id: "m", role: .user, content: "x", toolCallID: "c", createdAt: Date(timeIntervalSince1970: 2))
        #expect(try encoder.encode(plain) == plain.jsonData())
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(ChatMessage.self, from: plain.jsonData()) == plain)
    }

    @Test func conveniences() {
        #expect(ChatMessage.system("s").role == .system)
        #expect(ChatMessage.user("u").role == .user)
        let call = ChatMessage.ToolCall(id: "c", name: "f", arguments: "{}")
        #expect(ChatMessage.assistant("a", toolCalls: [call]).toolCalls == [call])
        #expect(ChatMessage.tool("r", callID: "c").toolCallID == "c")
        #expect(ChatMessage.user("a").id != ChatMessage.user("a").id)
    }
}

@Suite("ChatMessage token counting")
struct ChatMessageTokenCountTests {
    @Test(arguments: [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("héllo", 2), ("🦙🦙", 2)])
    func approximateCounter(_ text: String, _ expected: Int) {
        #expect(ApproximateTokenCounter().count(text) == expected)
        #expect(ApproximateTokenCounter().identifier == "approx-utf8-4/v1")
    }

    @Test func messageFormula() {
        let words = WindowTestWordCounter()
        // 3 + role 1 + content 2
        #expect(words.count(ChatMessage.user("hello there")) == 6)
        let assistant = ChatMessage(role: .assistant, content: "", name: "my bot",
                                    toolCalls: [.init(id: "c1", name: "get weather", arguments: "{ a b }")])
        // 3 + role 1 + name 2 + content 0 + call (id 1 + name 2 + arguments 4: "{", "a", "b", "}")
        #expect(words.count(assistant) == 13)
        // 3 + role 1 + content 1 + tool_call_id 1
        #expect(words.count(ChatMessage.tool("ok", callID: "c1")) == 6)
        // ceil: "assistant" 9 bytes -> 3; "" -> 0
        #expect(ApproximateTokenCounter().count(ChatMessage.assistant("")) == 3 + 3)
    }
}

@Suite("Joined counters")
struct JoinedCounterTests {
    /// Every counter's joined count equals counting the joined text, prepending newest first.
    @Test func approximateJoinedCountIsExact() {
        var rng = SplitMix64(seed: 5)
        let counter = ApproximateTokenCounter()
        for _ in 0..<200 {
            let texts = (0..<Int(rng.next() % 20)).map { _ in String(repeating: "é ", count: Int(rng.next() % 9)) }
            var joined = counter.joinedCounter()
            for (index, text) in texts.enumerated().reversed() {
                let expected = counter.count(texts[index...].joined(separator: " "))
                #expect(joined.prepend(text) == expected)
            }
        }
    }
}
