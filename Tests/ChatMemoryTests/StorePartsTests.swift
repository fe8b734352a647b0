import Foundation
import Testing
@testable import ChatMemory

/// Messages with images and files through every store: kept byte for byte, counted in windows,
/// capped by maxMessageBytes, checked before anything is written.
@Suite struct StorePartsTests {
    @Test(arguments: StoreKind.allCases)
    func partsRoundTripByteExactAndCountInWindows(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let chat = store.memory.session("parts")
            // Every byte value, and a PNG header saying 1024 × 1024 (765 tokens at high detail).
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
                + [0, 0, 4, 0, 0, 0, 4, 0] + (0...255).map { UInt8($0) }
            let question = ChatMessage(id: "q", role: .user, parts: [
                .text("What is on it?"), .image(.bytes(png, mediaType: "image/png"), detail: .high),
                .file(.url("https://example.com/spec.pdf"), name: "spec.pdf"),
            ])
            try await chat.append(question)
            try await chat.append(ChatMessage(id: "a", role: .assistant, content: "A chart."))
            let stored = try await chat.all()
            #expect(stored.first == question && stored.first?.parts == question.parts)
            guard case .image(.bytes(let back, _), _, _, _)? = stored.first?.parts[1] else {
                Issue.record("the image came back as \(String(describing: stored.first?.parts))")
                return
            }
            #expect(back == png)
            let tokens = try await chat.inspect().messages.map(\.tokens)
            let counter = store.memory.configuration.tokenCounter
            #expect(tokens[0] == 3 + counter.count("user") + counter.count("What is on it?") + 765 + 1_500)
            let window = try await chat.window(tokenLimit: tokens[0] + tokens[1])
            #expect(window.messages.map(\.id) == ["q", "a"])
            let tight = try await chat.window(tokenLimit: tokens[0] + tokens[1] - 1)
            #expect(tight.messages.map(\.id) == ["a"])
        }
    }

    /// A stored count cannot hide what images cost: they are counted exactly, and a forged
    /// count outside the range that leaves is recounted.
    @Test func aForgedCountCannotHideImages() async throws {
        try await withStore(.redis) { store in
            let chat = store.memory.session("forged-images")
            let images = ChatMessage(id: "many", role: .user, parts: (0..<1_000).map { .image(.url("https://x.test/\($0).png")) })
            let counter = store.memory.configuration.tokenCounter
            let forged = StoredEntry.encode(images, tokens: 60, counter: counter.identifier)
            try await store.redis().send("LPUSH", chat.key, forged.bytes)
            let real = counter.count(images)
            #expect(real >= 765_000)
            #expect(try await chat.inspect().messages.first?.tokens == real)
            await #expect(throws: ChatMemoryError.messageExceedsBudget(messageID: "many", tokens: real, budget: 10_000)) {
                try await chat.window(tokenLimit: 10_000)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func inlineBytesCountAgainstTheLimitAndBadPartsAreRefused(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessageBytes = 1_000 }) { store in
            let chat = store.memory.session("refused")
            let big = ChatMessage(id: "big", role: .user, parts: [.image(.bytes([UInt8](repeating: 7, count: 990), mediaType: "image/png"))])
            await #expect(throws: ChatMemoryError.messageTooLarge(messageID: "big", bytes: 990 + 9 + 3 + 4, limit: 1_000)) {
                try await chat.append(big)
            }
            let bad: [ContentPart] = [.image(.url("")), .file(.bytes([1], mediaType: "")), .image(.url("u"), width: 0, height: 5),
                                      .image(.url("u"), width: 5, height: -1)]
            for part in bad {
                await #expect(throws: ChatMemoryError.self, "\(part)") {
                    try await chat.append(contentsOf: [.user("first"), ChatMessage(id: "x", role: .user, parts: [.text("t"), part])])
                }
            }
            // Images and files go in user messages only: stored anywhere else, every window
            // holding them could not be sent.
            for role in [ChatMessage.Role.system, .assistant, .tool] {
                await #expect(throws: ChatMemoryError.self, "\(role)") {
                    try await chat.append(ChatMessage(role: role, parts: [.image(.url("https://x.test/i.png"))]))
                }
            }
            let left = try await chat.count()
            #expect(left == 0)
        }
    }
}
