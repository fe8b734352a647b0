import Foundation
import Testing
@testable import ChatMemory
import TestSupport

@Suite("Content parts")
struct ContentPartTests {
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    /// A PNG header of the given size (signature, IHDR length, "IHDR", width, height).
    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        func be(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + be(width) + be(height) + [8, 6, 0, 0, 0]
    }

    static let screenshot = png(width: 2048, height: 4096)

    static let message = ChatMessage(id: "m1", role: .user, parts: [
        .text("What is this?"),
        .image(.bytes(screenshot, mediaType: "image/png")),
        .image(.url("https://example.com/cat.png"), detail: .low, width: 10, height: 20),
        .file(.bytes(Array("%PDF-1.7".utf8), mediaType: "application/pdf"), name: "report.pdf"),
        .text("And this?"),
        .file(.url("https://example.com/a.pdf")),
    ], createdAt: date)

    @Test func theJSONFormIsDocumentedAndRoundTrips() throws {
        let json = String(decoding: try Self.message.jsonData(), as: UTF8.self)
        let data = Data(Self.screenshot).base64EncodedString()
        #expect(json == #"{"content":"What is this?\nAnd this?","created_at":1700000000000,"id":"m1","parts":["#
            + #"{"text":"What is this?","type":"text"},{"data":"\#(data)","media_type":"image/png","type":"image"},"#
            + #"{"detail":"low","height":20,"type":"image","url":"https://example.com/cat.png","width":10},"#
            + #"{"data":"JVBERi0xLjc=","media_type":"application/pdf","name":"report.pdf","type":"file"},"#
            + #"{"text":"And this?","type":"text"},{"type":"file","url":"https://example.com/a.pdf"}],"role":"user"}"#)
        #expect(try ChatMessage(jsonData: Data(json.utf8)) == Self.message)
        // The store's writer gives the same bytes, and its reader the same message.
        var written: [UInt8] = []
        EntryJSON.writeMessage(Self.message, to: &written)
        #expect(written == Array(json.utf8))
        #expect(StoredEntry.decode(written)?.message == Self.message)
    }

    /// A reader from before parts: it knows `content` only.
    @Test func aReaderFromBeforePartsSeesTheText() throws {
        struct OldMessage: Decodable { var id: String; var role: String; var content: String? }
        let old = try JSONDecoder().decode(OldMessage.self, from: try Self.message.jsonData())
        #expect(old.content == "What is this?\nAnd this?")
        // And entries written before parts read as before.
        let before = ChatMessage(id: "o", role: .user, content: "plain", createdAt: Self.date)
        #expect(try ChatMessage(jsonData: before.jsonData()).parts.isEmpty)
        #expect(ChatMessage(role: .user, parts: [.image(.url("u"))]).content == nil)
    }

    @Test func randomPartsRoundTripByteExactThroughBothWriters() throws {
        var rng = SplitMix64(seed: 22)
        let texts = ["", "a", "\u{0}\u{1F}\"\\/", "é\u{301}", "😀 text", String(repeating: "x", count: 300)]
        for round in 0..<300 {
            var parts: [ContentPart] = []
            for _ in 0..<Int(rng.next() % 5) {
                let bytes = (0..<Int(rng.next() % 70)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let source: MediaSource = rng.next() % 2 == 0 ? .bytes(bytes, mediaType: texts[Int(rng.next() % 6)])
                    : .url(texts[Int(rng.next() % 6)])
                switch rng.next() % 3 {
                case 0: parts.append(.text(texts[Int(rng.next() % 6)]))
                case 1:
                    let size = rng.next() % 2 == 0 ? nil : Int(rng.next() % 5000)
                    parts.append(.image(source, detail: ImageDetail.allCases.randomElement(using: &rng), width: size, height: size.map { $0 + 1 }))
                default: parts.append(.file(source, name: rng.next() % 2 == 0 ? nil : texts[Int(rng.next() % 6)]))
                }
            }
            let message = ChatMessage(id: "r\(round)", role: .user, parts: parts, createdAt: Self.date)
            let foundation = try message.jsonData()
            var written: [UInt8] = []
            EntryJSON.writeMessage(message, to: &written)
            #expect(written == Array(foundation), "round \(round)")
            let back = try #require(StoredEntry.decode(written)?.message, "round \(round)")
            #expect(back == message && back.parts == parts, "round \(round)")
        }
    }

    @Test func unknownPartsAreLeftOutAndBrokenPartsMakeTheEntryUnreadable() throws {
        let newer = #"{"id":"n","role":"user","content":"hi","parts":[{"type":"audio","data":"AAAA"},{"type":"text","text":"hi"}]}"#
        #expect(try ChatMessage(jsonData: Data(newer.utf8)).parts == [.text("hi")])
        // What a newer writer may add reads as an unknown key does: a source this version does
        // not know leaves its part out, an unknown detail reads as none.
        let newerSource = #"{"id":"n","role":"user","parts":[{"type":"file","file_id":"f-1"},{"type":"image","url":"u","detail":"ultra"}]}"#
        #expect(try ChatMessage(jsonData: Data(newerSource.utf8)).parts == [.image(.url("u"))])
        for broken in [#"[{"type":"image","data":"not base64!","media_type":"image/png"}]"#,
                       #"[{"text":"no type"}]"#, #"[{"type":"image","data":"AAAA"}]"#,
                       #"{"type":"text"}"#, #"[{"type":"image","url":"u","width":"wide"}]"#] {
            let entry = #"{"id":"b","role":"user","parts":\#(broken)}"#
            #expect(throws: DecodingError.self, "\(broken)") { try ChatMessage(jsonData: Data(entry.utf8)) }
            #expect(StoredEntry.decode(Array(entry.utf8)) == nil, "\(broken)")
        }
    }

    @Test func imagesCountByOpenAIsPublishedRule() {
        // OpenAI's worked examples.
        #expect(MediaTokenEstimate.imageTokens(width: 1024, height: 1024, detail: .high) == 765)
        #expect(MediaTokenEstimate.imageTokens(width: 2048, height: 4096, detail: .high) == 1105)
        #expect(MediaTokenEstimate.imageTokens(width: 4096, height: 8192, detail: .low) == 85)
        #expect(MediaTokenEstimate.imageTokens(width: 512, height: 512, detail: nil) == 255)
        #expect(MediaTokenEstimate.imageTokens(width: 768, height: 768, detail: .auto) == 765)
        for (width, height) in [(0, 0), (-5, 7), (Int.max, Int.max), (Int.min, 1), (1, Int.max)] {
            let tokens = MediaTokenEstimate.imageTokens(width: width, height: height, detail: .high)
            #expect((85...85 + 170 * 8).contains(tokens), "\(width)×\(height): \(tokens)")
        }
    }

    @Test func imageSizesAreReadFromHeaders() {
        #expect(ImageSize(Self.png(width: 800, height: 600)) == ImageSize(width: 800, height: 600))
        #expect(ImageSize(Array("GIF89a".utf8) + [0x20, 0x03, 0x58, 0x02, 0, 0]) == ImageSize(width: 800, height: 600))
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xFF, 0xC4, 0x00, 0x02,
                             0xFF, 0xC0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03]
        #expect(ImageSize(jpeg) == ImageSize(width: 800, height: 600))
        let vp8x = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0, 0, 0, 0, 0, 0x1F, 0x03, 0x00, 0x57, 0x02, 0x00]
        #expect(ImageSize(vp8x) == ImageSize(width: 800, height: 600))
        let bits = UInt32(799) | UInt32(599) << 14
        let vp8l = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8L".utf8) + [5, 0, 0, 0, 0x2F]
            + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: bits >> $0) }
        #expect(ImageSize(vp8l) == ImageSize(width: 800, height: 600))
        // Truncated, foreign, empty or zero-sized: unknown, never a trap.
        var rng = SplitMix64(seed: 3)
        for cut in 0..<jpeg.count - 1 { #expect(ImageSize(Array(jpeg.prefix(cut))) == nil, "\(cut)") }
        for cut in 0..<24 { #expect(ImageSize(Array(Self.png(width: 1, height: 1).prefix(cut))) == nil) }
        #expect(ImageSize(Self.png(width: 0, height: 9)) == nil)
        #expect(ImageSize([]) == nil)
        for _ in 0..<2_000 {
            let noise = [0xFF, 0xD8] + (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = ImageSize(noise)
        }
    }

    @Test func aMessageCountsItsPartsNotItsContentTwice() throws {
        let counter = ApproximateTokenCounter()
        let plain = counter.count(ChatMessage(role: .user, content: "What is this?\nAnd this?"))
        // The screenshot's size is read from its bytes (1105), the small URL image is low detail
        // (85), the files are the estimate (1,500 each); the two texts are counted once.
        let parts = counter.count(Self.message)
        let texts = counter.count("What is this?") + counter.count("And this?")
        #expect(parts == plain - counter.count("What is this?\nAnd this?") + texts + 1105 + 85 + 2 * 1_500)
        // An image by URL without a size is the estimate, which the counter's identifier follows.
        var custom = ApproximateTokenCounter()
        custom.mediaTokens = MediaTokenEstimate(unsizedImage: 1_000, file: 10)
        #expect(custom.identifier != ApproximateTokenCounter().identifier)
        let unsized = ChatMessage(role: .user, parts: [.image(.url("https://example.com/x.jpg")), .file(.url("f"))])
        #expect(custom.count(unsized) - counter.count(unsized) == (1_000 - 765) + (10 - 1_500))
        // Estimates at the ends of Int saturate, never trap.
        var huge = ApproximateTokenCounter()
        huge.mediaTokens = MediaTokenEstimate(unsizedImage: .max, file: .max)
        var result = ChatMessage(role: .tool, parts: [.text("x")])
        result.toolCallID = "call"
        let user = ChatMessage(role: .user, parts: [.file(.url("a")), .file(.url("b")), .image(.url("c"))])
        #expect(huge.count(user) == .max && huge.count(result) < 100)
        var tiktoken = try TiktokenCounter()
        let before = tiktoken.identifier
        tiktoken.mediaTokens.file = 2
        #expect(tiktoken.identifier != before && tiktoken.identifier.hasPrefix(before))
    }
}
