import Foundation
import Testing
@testable import ChatMemory

@Suite struct SummaryEntryTests {
    static let summary = ChatSummary(id: "summary:1", text: "Ada asked about \"Oslo\"\n", tokens: 12, coveredMessageIDs: ["m1", "m\"2"],
                                     replacedSummaryID: "summary:0", coveredMessageCount: 7,
                                     createdAt: Date(timeIntervalSince1970: 1_764_000_000.123))

    @Test func aSummaryEntryRoundTripsAndAnOldReaderSeesItsSystemMessage() throws {
        let bytes = SummaryMetadata.encode(Self.summary, counter: "approx-utf8-4/v1")
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"id":"summary:1","kind":"summary","v":1,"tokens":12,"#))
        let decoded = try #require(StoredEntry.decode(bytes))
        #expect(decoded.message == Self.summary.message && decoded.tokens == 12)
        #expect(ChatSummary(decoded, tokens: 12) == Self.summary)
        #expect(StoredEntry.decodedWithFoundation(bytes)?.summary == decoded.summary)
        // A reader without kinds: the envelope's message, a system message.
        struct OldEnvelope: Decodable { let message: ChatMessage; let tokens: Int? }
        let old = try ChatMessage.jsonDecoder.decode(OldEnvelope.self, from: Data(bytes))
        #expect(old.message.role == .system && old.message.content == Self.summary.text && old.tokens == 12)
        #expect(ChatStorageEntry.idPrefix(of: bytes) == Array(#"{"id":"summary:1","#.utf8))
    }

    /// The fast reader and `JSONDecoder` agree on summary entries, hostile ones included.
    @Test(arguments: [
        #"{"id":"s","kind":"summary","message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":null,"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":5,"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covers":["a",1]},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covers":["a"],"covered":1e2},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covers":["\ud800"]},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covered":-3,"replaces":7},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covered":9223372036854775807},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covers":[],"extra":{"deep":[1,2]}},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"\ud800":1},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"note","summary":{"covers":5},"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"\q","message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":7,"message":{"id":"s","role":"system","content":"x"}}"#,
        #"{"id":"s","kind":"summary","summary":{"covers":["a"],"covers":["b"]},"message":{"id":"s","role":"system","content":"x"}}"#,
    ])
    func theFastReaderAgreesWithFoundation(entry: String) {
        let outcome = EntryJSONDifferential.check(Array(entry.utf8))
        #expect(outcome.problems.isEmpty, "\(entry): \(outcome.problems)")
    }
}
