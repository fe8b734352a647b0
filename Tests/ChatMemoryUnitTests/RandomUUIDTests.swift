import Foundation
import Testing
@testable import ChatMemory

@Suite("RandomUUID")
struct RandomUUIDTests {
    static let ids = (0..<2_000).map { _ in RandomUUID.string() }

    @Test func idsHaveFoundationsUppercaseForm() throws {
        for id in Self.ids {
            let parsed = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(parsed.uuidString == id)
            #expect(Array(id.utf8).count == 36)
        }
    }

    @Test func idsAreVersion4WithTheRFCVariant() {
        for id in Self.ids {
            let characters = Array(id)
            #expect(characters[14] == "4", "\(id)")
            #expect("89AB".contains(characters[19]), "\(id)")
        }
    }

    @Test func everyRandomDigitVaries() {
        // 2,000 ids leave a random digit with fewer than 12 of its 16 values with a chance far
        // below 1e-100; a digit taken from the wrong bits (a constant, a repeat) shows here.
        let columns = Self.ids.map { Array($0) }
        for position in 0..<36 where ![8, 13, 14, 18, 19, 23].contains(position) {
            #expect(Set(columns.map { $0[position] }).count >= 12, "digit \(position)")
        }
        #expect(Set(columns.map { $0[19] }) == ["8", "9", "A", "B"])
        #expect(Set(Self.ids).count == Self.ids.count)
    }

    @Test func defaultMessageIDsAreFresh() {
        let ids = (0..<100).map { _ in ChatMessage.user("x").id } + (0..<100).map { _ in ChatMessage(role: .user, parts: [.text("x")]).id }
        #expect(Set(ids).count == 200)
        #expect(ids.allSatisfy { UUID(uuidString: $0)?.uuidString == $0 })
    }
}
