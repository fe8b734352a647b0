import Foundation
import Testing
@testable import ChatMemory

/// The fast entry codec against Foundation's JSON: same messages, same verdicts.
@Suite struct EntryJSONTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The fast reader and `JSONDecoder` (with the repeated-key rule) agree on `bytes`.
    static func expectAgreement(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = EntryJSONDifferential.check(bytes).problems
        #expect(problems.isEmpty, "\(problems) for \"\(EntryJSONDifferential.escaped(bytes))\"", sourceLocation: sourceLocation)
    }

    @Test func encodedEntriesRoundTripAndAreValidJSON() throws {
        var fuzzer = EntryFuzzer(seed: .random(in: 0...UInt64.max), index: 0)
        for _ in 0..<2000 {
            let message = fuzzer.randomMessage()
            let entry = StoredEntry.encode(message, tokens: 42, counter: "c\"1")
            guard case .value(let value) = EntryJSON.parse(entry.bytes) else {
                Issue.record("parse refuses \(EntryJSONDifferential.escaped(entry.bytes))")
                continue
            }
            // The writer's entries never need JSONDecoder.
            guard case .array(let items) = value else {
                Issue.record("not the compact form: \(EntryJSONDifferential.escaped(entry.bytes))")
                continue
            }
            #expect(StoredEntry.fastCompact(items)?.message == message)
            let fast = try #require(StoredEntry.decode(entry.bytes))
            #expect(fast.message == message && fast.tokens == 42 && fast.counter == "c\"1")
            let slow = try #require(StoredEntry.decodedWithFoundation(entry.bytes), "Foundation rejects \(String(decoding: entry.bytes, as: UTF8.self))")
            #expect(slow.message == message && slow.tokens == 42 && slow.counter == "c\"1")
            #expect(ChatStorageEntry.idPrefix(of: entry.bytes) == entry.idPrefix)
            #expect(entry.idPrefix == StoredEntry.idPrefix(of: message.id))
            // The object form written before reads the same, with the same id key.
            let legacy = Self.objectForm(message, tokens: 42, counter: "c\"1")
            #expect(StoredEntry.decode(legacy)?.message == message && StoredEntry.decode(legacy)?.tokens == 42)
            #expect(ChatStorageEntry.idPrefix(of: legacy) == entry.idPrefix)
            #expect(NewestEntry(message).matches(entry.bytes) && NewestEntry(message).matches(legacy))
        }
    }

    /// The entry an append wrote before the compact form (still read, and still written for
    /// summaries).
    static func objectForm(_ message: ChatMessage, tokens: Int, counter: String) -> [UInt8] {
        var bytes = StoredEntry.idPrefix(of: message.id) + Array(#""v":1,"tokens":\#(tokens),"counter":"#.utf8)
        EntryJSON.writeString(counter, to: &bytes)
        return bytes + StoredEntry.messageSuffix(of: message)
    }

    /// The documented compact examples, and the count slot's two forms.
    @Test func theCompactFormIsAsDocumented() throws {
        let plain = ChatMessage(id: "m1", role: .user, content: "Hello!", createdAt: Date(timeIntervalSince1970: 1_735_787_045.678))
        #expect(String(decoding: StoredEntry.encode(plain, tokens: 42, counter: "cl100k_base").bytes, as: UTF8.self)
                == #"["m1",42,"user","Hello!",1735787045678]"#)
        let tool = ChatMessage(id: "m2", role: .tool, content: "18°C", toolCallID: "call_1", createdAt: Date(timeIntervalSince1970: 1_735_787_045.678))
        #expect(String(decoding: StoredEntry.encode(tool, tokens: 42, counter: "o200k_base").bytes, as: UTF8.self)
                == #"["m2",{"o200k_base":42},"tool","18°C",1735787045678,{"tool_call_id":"call_1"}]"#)
        let silent = ChatMessage(id: "m3", role: .assistant, content: nil, createdAt: Date(timeIntervalSince1970: 0))
        let bytes = StoredEntry.encode(silent, tokens: 0, counter: "cl100k_base").bytes
        #expect(String(decoding: bytes, as: UTF8.self) == #"["m3",0,"assistant",null,0]"#)
        #expect(StoredEntry.decode(bytes)?.message == silent)
        // Keys the compact form keeps in its first elements are ignored in its last.
        let shadowed = Self.bytes(#"["m4",1,"user","a",5,{"id":"other","role":"tool","content":"b","created_at":9,"name":"n"}]"#)
        let read = try #require(StoredEntry.decode(shadowed))
        #expect(read.message.id == "m4" && read.message.role == .user && read.message.content == "a" && read.message.name == "n")
        #expect(StoredEntry.decodedWithFoundation(shadowed)?.message == read.message)
        // Not ours: a missing element, one too many, a count naming two counters, a time that is not a number.
        for broken in [#"["m5",1,"user","a"]"#, #"["m5",1,"user","a",5,{},6]"#, #"["m5",{"a":1,"b":2},"user","a",5]"#,
                       #"["m5",1,"user","a","5"]"#, #"["",1,"user","a",5]"#, #"["m5",1,"wizard","a",5]"#] {
            #expect(StoredEntry.decode(Self.bytes(broken)) == nil, "\(broken)")
            Self.expectAgreement(Self.bytes(broken))
        }
    }

    @Test func readsWhatJSONEncoderWritesWithoutFoundation() throws {
        var fuzzer = EntryFuzzer(seed: .random(in: 0...UInt64.max), index: 0)
        for _ in 0..<500 {
            let message = fuzzer.randomMessage()
            let bytes = Array(try message.jsonData())
            guard case .value(let value) = EntryJSON.parse(bytes) else {
                Issue.record("parse refuses \(EntryJSONDifferential.escaped(bytes))")
                continue
            }
            #expect(EntryJSON.message(from: value) == message)
        }
    }

    // MARK: Reported disagreements

    /// A sign inside a `\u` escape was read as hex (`UInt8("+07f", radix: 16)`); `JSONDecoder`
    /// refuses it wherever it reads the string.
    @Test(arguments: [#"\u+07f"#, #"\u-000"#, #"\u+7Ff"#, #"\u-7ff"#, #"\u 07f"#])
    func signedUnicodeEscapesAreRefusedWhereRead(escape: String) {
        for entry in [
            #"{"id":"1","role":"user","content":"a\#(escape)"}"#,
            #"{"id":"\#(escape)","role":"user"}"#,
            #"{"id":"1","role":"user","metadata":{"k\#(escape)":"v"}}"#,
            #"{"id":"1","v":1,"tokens":3,"counter":"\#(escape)","message":{"id":"1","role":"user"}}"#,
        ] {
            #expect(StoredEntry.decodedWithFoundation(Self.bytes(entry)) == nil)
            #expect(StoredEntry.decode(Self.bytes(entry)) == nil, "\(entry)")
        }
        // In a value nothing reads, JSONDecoder never looks: both take the entry.
        let unread = Self.bytes(#"{"id":"1","role":"user","x":"\#(escape)","y":{"\#(escape)":0}}"#)
        #expect(StoredEntry.decode(unread)?.message.id == "1")
        Self.expectAgreement(unread)
    }

    /// Leading zeros were read as plain integers; `JSONDecoder` refuses them wherever it reads
    /// the number (and ignores them elsewhere).
    @Test(arguments: ["012", "-01", "00", "-00", "0012", "01.5", "-0012e3"])
    func numbersWithLeadingZerosAreRefusedWhereRead(number: String) {
        for entry in [
            #"{"id":"1","role":"user","created_at":\#(number)}"#,
            #"{"id":"1","v":1,"tokens":\#(number),"counter":"c","message":{"id":"1","role":"user"}}"#,
            #"{"message":{"id":"1","role":"user","created_at":\#(number)},"tokens":1}"#,
        ] {
            #expect(StoredEntry.decodedWithFoundation(Self.bytes(entry)) == nil)
            #expect(StoredEntry.decode(Self.bytes(entry)) == nil, "\(entry)")
        }
        let unread = Self.bytes(#"{"id":"1","role":"user","x":\#(number),"y":[\#(number)]}"#)
        #expect(StoredEntry.decode(unread)?.message.id == "1")
        Self.expectAgreement(unread)
    }

    /// A repeated key was read last-wins (`JSONDecoder` keeps the first, the append script
    /// matches the first `id`): now the entry is foreign, whichever object repeats the key.
    @Test(arguments: [
        #"{"id":"k1","id":"k2","role":"user","content":"hi"}"#,
        #"{"id":"k1","i\u0064":"k2","role":"user"}"#,
        #"{"id":"k1","v":1,"id":"k2","tokens":3,"counter":"c","message":{"id":"k1","role":"user"}}"#,
        #"{"id":"k1","v":1,"tokens":3,"counter":"c","message":{"id":"k1","role":"user","content":"a","content":"b"}}"#,
        #"{"id":"k1","v":1,"tokens":3,"tokens":4,"counter":"c","message":{"id":"k1","role":"user"}}"#,
        #"{"id":"1","role":"user","metadata":{"a":"1","b":"2","a":"1"}}"#,
        "{\"id\":\"1\",\"role\":\"user\",\"metadata\":{\"\u{e9}\":\"nfc\",\"e\u{301}\":\"nfd\"}}",
        #"{"id":"1","role":"user","tool_calls":[{"id":"c","name":"f","id":"d"}]}"#,
        #"{"id":"1","role":"user","x":[{"a":1,"a":1}]}"#,
        #"{"id":"1","role":"user","x":{"\q":1,"a":[],"a":{}}}"#,
        #"{"id":"1","role":"user","content":null,"content":"x"}"#,
    ])
    func repeatedKeysMakeAnEntryForeign(entry: String) {
        let bytes = Self.bytes(entry)
        #expect(StoredEntry.decode(bytes) == nil)
        #expect(Self.isDuplicateKey(EntryJSON.parse(bytes)))
        Self.expectAgreement(bytes)
    }

    @Test func repeatedKeysAreFoundInLargeAndDeepObjects() {
        let many = (0..<40).map { #""k\#($0)":\#($0)"# }.joined(separator: ",")
        let large = Self.bytes(#"{"id":"1","role":"user","x":{\#(many),"k0":0}}"#)
        #expect(StoredEntry.decode(large) == nil && Self.isDuplicateKey(EntryJSON.parse(large)))
        let distinct = Self.bytes(#"{"id":"1","role":"user","x":{\#(many)}}"#)
        #expect(StoredEntry.decode(distinct)?.message.id == "1")

        let depth = EntryJSON.Parser.maxDepth - 2
        let deep = Self.bytes(#"{"id":"1","role":"user","x":"# + String(repeating: "[", count: depth)
            + #"{"a":1,"a":2}"# + String(repeating: "]", count: depth) + "}")
        #expect(StoredEntry.decode(deep) == nil && Self.isDuplicateKey(EntryJSON.parse(deep)))
        Self.expectAgreement(deep)
    }

    /// Unreadable keys take no part in the repeated-key rule: only an object nothing reads can hold them.
    @Test func unreadableKeysAreNotCompared() {
        let bytes = Self.bytes(#"{"id":"1","role":"user","x":{"\q":1,"\q":2}}"#)
        #expect(StoredEntry.decode(bytes)?.message.id == "1")
        Self.expectAgreement(bytes)
        let read = Self.bytes(#"{"id":"1","role":"user","\q":1}"#)
        #expect(StoredEntry.decode(read) == nil)
        Self.expectAgreement(read)
    }

    static func isDuplicateKey(_ parsed: EntryJSON.Parsed) -> Bool {
        if case .duplicateKey = parsed { return true }
        return false
    }

    // MARK: What JSONDecoder tolerates, and so does the reader

    @Test(arguments: [
        #"{"id":"1","role":"user",}"#,
        #"{"id":"1","role":"user","tool_calls":[{"id":"c",},],"metadata":{"a":"b",}}"#,
        #"{"id":"1","role":"user","x":"\q\u+07f\uD800","y":012,"z":1-2e.e,"w":"\#u{1}"}"#,
        "\u{FEFF}{\"id\":\"1\",\"role\":\"user\"}",
        " \t\r\n{\"id\":\"1\",\"role\":\"user\"} \t\r\n",
    ])
    func toleratesWhatJSONDecoderTolerates(entry: String) {
        let bytes = Self.bytes(entry)
        #expect(StoredEntry.decode(bytes)?.message.id == "1")
        Self.expectAgreement(bytes)
    }

    @Test func readsUTF16AndUTF32LikeJSONDecoder() {
        let text = #"{"id":"é🧪","role":"user","content":"x"}"#
        let utf16BE = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let utf16LE = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let utf32BE = text.unicodeScalars.flatMap { scalar in [24, 16, 8, 0].map { UInt8(scalar.value >> $0 & 0xFF) } }
        let utf32LE = text.unicodeScalars.flatMap { scalar in [0, 8, 16, 24].map { UInt8(scalar.value >> $0 & 0xFF) } }
        for bytes in [utf16BE, utf16LE, [0xFE, 0xFF] + utf16BE, [0xFF, 0xFE] + utf16LE, utf32BE, utf32LE, [0, 0, 0xFE, 0xFF] + utf32BE] {
            #expect(StoredEntry.decode(bytes)?.message.id == "é🧪")
            Self.expectAgreement(bytes)
        }
        // JSONDecoder's own oddities: FE FF 00 00 means UTF-32 little-endian, FF FE 00 00 UTF-16 little-endian.
        for bytes in [[0xFE, 0xFF, 0, 0] + utf32LE, [0xFF, 0xFE, 0, 0] + utf32LE, [0xFF, 0xFE, 0, 0] + utf16LE, [0x7B, 0]] {
            Self.expectAgreement(bytes)
        }
    }

    @Test func nestsAsDeepAsJSONDecoder() {
        let limit = EntryJSON.Parser.maxDepth
        for depth in [limit - 1, limit, limit + 1] {
            let bytes = Self.bytes(#"{"id":"1","role":"user","x":"# + String(repeating: "[", count: depth - 1)
                + String(repeating: "]", count: depth - 1) + "}")
            #expect((StoredEntry.decode(bytes) != nil) == (depth <= limit))
            Self.expectAgreement(bytes)
        }
    }

    /// `JSONDecoder` traps (swift-foundation in Swift 6.3) when the array that passes its depth
    /// limit opens on the last byte. The old reader gave up at 64 levels and asked it; now such
    /// text is malformed before `JSONDecoder` sees it.
    @Test func neverHandsJSONDecoderTheTextThatCrashesIt() {
        let limit = EntryJSON.Parser.maxDepth
        for text in [String(repeating: "[", count: limit + 1), #"{"id":"1","role":"user","x":"# + String(repeating: "[", count: limit)] {
            guard case .malformed = EntryJSON.parse(Self.bytes(text)) else {
                Issue.record("parse accepts \(text.suffix(20))")
                continue
            }
            #expect(StoredEntry.decode(Self.bytes(text)) == nil)
        }
    }

    // MARK: Odd entries

    @Test(arguments: [
        #"{"id":"1","role":"user","content":"hi"}"#,
        #"{"id":"1","role":"user","content":"h\u00e9"}"#,
        #"{"id":"1","role":"user","content":"\ud83e\uddea\uD83E\uDDEA"}"#,
        #"{"id":"1","role":"user","content":"\uD800"}"#,
        #"{"id":"1","role":"user","content":"\uDC00\uD800"}"#,
        #"{"id":"1","role":"user","content":"\uD800\u0041"}"#,
        #"{"id":"1","role":"user","content":"\u0000\u001f\u007F\/\b\f"}"#,
        #"{"id":"1","role":"user","content":"\u12"}"#,
        #"{"id":"1","role":"user","content":"\u12\"}"#,
        #"{"id":"1","role":"user","created_at":1.5e3}"#,
        #"{"id":"1","role":"user","created_at":1700000000123.6}"#,
        #"{"id":"1","role":"user","created_at":-0}"#,
        #"{"id":"1","role":"user","created_at":1e400}"#,
        #"{"id":"1","role":"wizard"}"#,
        #"{"id":1,"role":"user"}"#,
        #"{"id":"1","role":"user","content":null,"name":null,"metadata":null,"tool_calls":null}"#,
        #"{"id":"1","role":"user","content":""}"#,
        #"{"id":"1","role":"user","metadata":{"a":1}}"#,
        #"{"id":"1","role":"user","tool_calls":[{"id":"c"}]}"#,
        #"{"id":"1","role":"user","tool_calls":[1]}"#,
        #"{"id":"1","role":"user","tool_calls":[null]}"#,
        #"{"message":{"id":"1","role":"tool","content":"x"},"tokens":"3"}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":3,"counter":7}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":5e18,"counter":"c"}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":5e19,"counter":"c"}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":1.0000000000000001}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":0.5}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":-0}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":123456789012345678}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":1234567890123456789}"#,
        #"{"message":{"id":"1","role":"tool"},"tokens":99999999999999999999}"#,
        #"{"id":"1","role":"user","created_at":-99999999999999999999999999}"#,
        #"{"id":"1","role":"user","x":123456789012345678901234567890}"#,
        #"{"message":{"id":"1","role":"tool"}}"#,
        #"{"message":null,"id":"2","role":"user"}"#,
        #"{"message":"not an object","id":"2","role":"user"}"#,
        #"{"id":"1","role":"user"} trailing"#,
        #"{"id":"1","role":"user",,}"#,
        #"[{"id":"1","role":"user"},]"#,
        "written by hand", "", "{", "[]", "null", "-", "\u{FEFF}", "{\"id\":\"1\",\"role\":\"user\",\"content\":\"raw tab\tinside\"}",
    ])
    func agreesWithFoundationOnOddEntries(text: String) {
        Self.expectAgreement(Self.bytes(text))
    }

    @Test(arguments: [[0xFF, 0xFE], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]] as [[UInt8]])
    func invalidUTF8IsRefusedWhereRead(bytes: [UInt8]) {
        let read = Self.bytes(#"{"id":"1","role":"user","content":""#) + bytes + Self.bytes(#""}"#)
        #expect(StoredEntry.decode(read) == nil)
        Self.expectAgreement(read)
        let unread = Self.bytes(#"{"id":"1","role":"user","x":""#) + bytes + Self.bytes(#""}"#)
        #expect(StoredEntry.decode(unread)?.message.id == "1")
        Self.expectAgreement(unread)
    }

    // MARK: Fuzzing

    /// A differential fuzz run against `JSONDecoder`: `FUZZ_CASES` cases (20,000 unless set) from
    /// `FUZZ_SEED` (random unless set; printed). `Scripts/fuzz-entry-json.sh` runs a million.
    @Test func agreesWithFoundationOnFuzzedInput() async {
        let environment = ProcessInfo.processInfo.environment
        let cases = environment["FUZZ_CASES"].flatMap { Int($0) } ?? 20_000
        let seed = environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? .random(in: 0...UInt64.max)
        var scanned = 0, decoded = 0, repeated = 0, disagreements = 0
        var reports: [String] = []
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<cases {
            // Yield now and then: a long CPU-bound loop must not starve the other suites' tasks.
            if index % 256 == 0 { await Task.yield() }
            var fuzzer = EntryFuzzer(seed: seed, index: index)
            let input = fuzzer.input()
            let outcome = EntryJSONDifferential.check(input)
            scanned += outcome.scanned ? 1 : 0
            decoded += outcome.decoded ? 1 : 0
            repeated += outcome.duplicateKey ? 1 : 0
            guard !outcome.problems.isEmpty else { continue }
            disagreements += 1
            if reports.count < 10 {
                reports.append("case \(index): \(outcome.problems.joined(separator: "; "))\n  input: \"\(EntryJSONDifferential.escaped(input))\"")
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("EntryJSON fuzz: \(cases) cases, seed \(seed), \(Int(Double(cases) / max(seconds, 1e-9))) cases/s; "
            + "JSONDecoder scans \(scanned), \(decoded) are entries, \(repeated) repeat a key; \(disagreements) disagreements")
        #expect(disagreements == 0, """
            \(disagreements) of \(cases) cases disagree (replay: FUZZ_SEED=\(seed) FUZZ_CASES=\(cases)):
            \(reports.joined(separator: "\n"))
            """)
        if cases >= 1_000 {
            // The generator must keep producing entries that are read and keys that repeat.
            #expect(decoded > cases / 10 && repeated > cases / 200, "decoded \(decoded), repeated \(repeated)")
        }
    }
}
