import ChatMemory
import Testing

/// `ChatMemoryError` is a struct with an open `Code`: callers compare codes, switch over them with
/// a `default:` branch, and read the details as properties.
@Suite struct ChatMemoryErrorTests {
    static let all: [ChatMemoryError] = [
        .invalidTokenBudget(tokenLimit: 0, reserving: 5),
        .messageExceedsBudget(messageID: "m-1", tokens: 900, budget: 100),
        .invalidSessionID("a session id must not be empty"),
        .wrongKeyType(key: "chat:s"),
        .messageTooLarge(messageID: "m-2", bytes: 5_000_000, limit: 4_194_304),
        .invalidMessage("a message needs a non-empty id"),
        .invalidConfiguration("maxMessages must be from 1 to 4294967296 (got 0)"),
        .unexpectedReply("LLEN returned nil"),
    ]

    /// How a caller switches over a code: a `default:` branch for codes added later.
    static func status(_ error: ChatMemoryError) -> Int {
        switch error.code {
        case .invalidSessionID, .invalidMessage, .invalidTokenBudget: 400
        case .messageTooLarge: 413
        case .messageExceedsBudget: 422
        default: 500
        }
    }

    @Test func switchingOverCodesWithADefaultBranch() {
        #expect(Self.all.map(Self.status) == [400, 422, 400, 500, 413, 400, 500, 500])
    }

    @Test func detailsAreProperties() {
        let budget = ChatMemoryError.invalidTokenBudget(tokenLimit: Int.min, reserving: Int.max)
        #expect(budget.code == .invalidTokenBudget)
        #expect(budget.tokenLimit == Int.min && budget.reserving == Int.max)
        #expect(budget.messageID == nil && budget.reason == nil && budget.key == nil)

        let exceeds = Self.all[1]
        #expect(exceeds.messageID == "m-1" && exceeds.tokens == 900 && exceeds.budget == 100)
        #expect(exceeds.bytes == nil && exceeds.limit == nil)

        let large = Self.all[4]
        #expect(large.messageID == "m-2" && large.bytes == 5_000_000 && large.limit == 4_194_304)
        #expect(large.tokens == nil && large.budget == nil)

        #expect(Self.all[3].key == "chat:s")
        #expect(Self.all[2].reason == "a session id must not be empty")
        #expect(Self.all[7].reason == "LLEN returned nil")
    }

    @Test func codesAndErrorsCompareByValue() {
        let codes = Self.all.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(Set(Self.all).count == Self.all.count)
        #expect(ChatMemoryError.invalidMessage("x") == .invalidMessage("x"))
        #expect(ChatMemoryError.invalidMessage("x") != .invalidMessage("y"))
        #expect(ChatMemoryError.invalidMessage("x") != .invalidConfiguration("x"))
        #expect(ChatMemoryError.messageExceedsBudget(messageID: "a", tokens: 1, budget: 0)
                != .messageExceedsBudget(messageID: "a", tokens: 1, budget: 1))
        #expect(ChatMemoryError.Code.wrongKeyType == ChatMemoryError.wrongKeyType(key: "k").code)
    }

    @Test func descriptionsAreReadable() {
        #expect(Self.all.map(\.code.description) == [
            "invalidTokenBudget", "messageExceedsBudget", "invalidSessionID", "wrongKeyType",
            "messageTooLarge", "invalidMessage", "invalidConfiguration", "unexpectedReply",
        ])
        #expect(Self.all.map(\.description) == [
            "invalid token budget: tokenLimit must be at least 1 and reserving from 0 to tokenLimit (got tokenLimit 0, reserving 5)",
            "message m-1 needs 900 tokens, more than the whole budget of 100",
            "invalid session id: a session id must not be empty",
            "the key chat:s holds another type of value, not a chat session list",
            "message m-2 has 5000000 bytes, more than the limit of 4194304",
            "invalid message: a message needs a non-empty id",
            "invalid configuration: maxMessages must be from 1 to 4294967296 (got 0)",
            "unexpected reply: LLEN returned nil",
        ])
        #expect("\(Self.all[1])" == Self.all[1].description)
    }

    @Test(arguments: StoreKind.allCases)
    func thrownErrorsCarryTheirDetails(kind: StoreKind) async throws {
        try await withStore(kind, { $0.maxMessageBytes = 10 }) { store in
            let chat = store.memory.session("details")
            await #expect {
                try await chat.append(ChatMessage(id: "big", role: .user, content: "eleven char"))
            } throws: { error in
                (error as? ChatMemoryError) == .messageTooLarge(messageID: "big", bytes: 18, limit: 10)  // id, role and content
            }
            await #expect {
                _ = try await chat.window(tokenLimit: 10, reserving: 11)
            } throws: { error in
                guard let error = error as? ChatMemoryError, error.code == .invalidTokenBudget else { return false }
                return error.tokenLimit == 10 && error.reserving == 11
            }
        }
    }
}
