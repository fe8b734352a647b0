import Foundation
import Testing
import TestSupport
@testable import ChatMemory

/// The provider encoders: each field's mapping, the exact JSON, and Anthropic's ordering rules on
/// generated histories.
@Suite struct ProviderEncoderTests {
    private static let at = Date(timeIntervalSince1970: 1_764_108_063)
    private static let history: [ChatMessage] = [
        ChatMessage(id: "s", role: .system, content: "Be terse.", createdAt: at),
        ChatMessage(id: "u1", role: .user, content: "Weather in Oslo and Rome?", name: "ana", metadata: ["k": "v"], createdAt: at),
        ChatMessage(id: "a1", role: .assistant, content: nil, toolCalls: [
            .init(id: "c1", name: "weather", arguments: #"{"city":"Oslo"}"#),
            .init(id: "c2", name: "weather", arguments: #"{"city":"Rome","days":2,"scale":1.5,"alerts":[true,null]}"#),
        ], createdAt: at),
        ChatMessage(id: "t2", role: .tool, content: "21 °C", name: "weather", toolCallID: "c2", createdAt: at),
        ChatMessage(id: "t1", role: .tool, content: "3 °C", toolCallID: "c1", createdAt: at),
        ChatMessage(id: "u2", role: .user, content: "Thanks.", createdAt: at),
        ChatMessage(id: "a2", role: .assistant, content: "Oslo 3 °C, Rome 21 °C.", createdAt: at),
    ]

    private static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func openAIChatCompletionsMapsEveryField() throws {
        let json = Self.text(try OpenAIChatCompletions.jsonData(Self.history))
        #expect(json == """
            [{"content":"Be terse.","role":"system"},\
            {"content":"Weather in Oslo and Rome?","name":"ana","role":"user"},\
            {"content":null,"role":"assistant","tool_calls":[\
            {"function":{"arguments":"{\\"city\\":\\"Oslo\\"}","name":"weather"},"id":"c1","type":"function"},\
            {"function":{"arguments":"{\\"city\\":\\"Rome\\",\\"days\\":2,\\"scale\\":1.5,\\"alerts\\":[true,null]}","name":"weather"},"id":"c2","type":"function"}]},\
            {"content":"21 °C","role":"tool","tool_call_id":"c2"},\
            {"content":"3 °C","role":"tool","tool_call_id":"c1"},\
            {"content":"Thanks.","role":"user"},\
            {"content":"Oslo 3 °C, Rome 21 °C.","role":"assistant"}]
            """)
    }

    @Test func openAIResponsesGivesMessagesCallsAndOutputs() throws {
        let json = Self.text(try OpenAIResponses.jsonData(Self.history))
        #expect(json == """
            [{"content":"Be terse.","role":"system","type":"message"},\
            {"content":"Weather in Oslo and Rome?","role":"user","type":"message"},\
            {"arguments":"{\\"city\\":\\"Oslo\\"}","call_id":"c1","name":"weather","type":"function_call"},\
            {"arguments":"{\\"city\\":\\"Rome\\",\\"days\\":2,\\"scale\\":1.5,\\"alerts\\":[true,null]}","call_id":"c2","name":"weather","type":"function_call"},\
            {"call_id":"c2","output":"21 °C","type":"function_call_output"},\
            {"call_id":"c1","output":"3 °C","type":"function_call_output"},\
            {"content":"Thanks.","role":"user","type":"message"},\
            {"content":"Oslo 3 °C, Rome 21 °C.","role":"assistant","type":"message"}]
            """)
        // Text and a call: the message, then the call; no text and no call: an empty message.
        let both = ChatMessage.assistant("Checking.", toolCalls: [.init(id: "c", name: "f", arguments: "{}")])
        #expect(try OpenAIResponses.input([both, .assistant(nil)]) == [
            .message(role: "assistant", content: "Checking."), .functionCall(callID: "c", name: "f", arguments: "{}"),
            .message(role: "assistant", content: ""),
        ])
    }

    @Test func anthropicMovesTheSystemPromptAndGroupsToolResults() throws {
        let json = Self.text(try AnthropicMessages.jsonData(Self.history))
        #expect(json == """
            {"messages":[{"content":[{"text":"Weather in Oslo and Rome?","type":"text"}],"role":"user"},\
            {"content":[{"id":"c1","input":{"city":"Oslo"},"name":"weather","type":"tool_use"},\
            {"id":"c2","input":{"alerts":[true,null],"city":"Rome","days":2,"scale":1.5},"name":"weather","type":"tool_use"}],"role":"assistant"},\
            {"content":[{"content":"21 °C","tool_use_id":"c2","type":"tool_result"},\
            {"content":"3 °C","tool_use_id":"c1","type":"tool_result"},\
            {"text":"Thanks.","type":"text"}],"role":"user"},\
            {"content":[{"text":"Oslo 3 °C, Rome 21 °C.","type":"text"}],"role":"assistant"}],\
            "system":"Be terse."}
            """)
        #expect(AnthropicMessages.ruleViolations(try AnthropicMessages.request(Self.history)).isEmpty)
        // Two system messages join; none: no system key.
        let twoSystems = try AnthropicMessages.request([.system("A"), .user("hi"), .system("B")])
        #expect(twoSystems.system == "A\n\nB" && twoSystems.messages.count == 1)
        #expect(!Self.text(try AnthropicMessages.jsonData([.user("hi")])).contains("system"))
    }

    @Test func anthropicToolArgumentsMustBeAnObject() throws {
        let empty = ChatMessage.assistant(nil, toolCalls: [.init(id: "c", name: "f", arguments: " ")])
        #expect(try AnthropicMessages.request([.user("x"), empty]).messages[1].content == [.toolUse(id: "c", name: "f", input: [:])])
        for arguments in ["[1]", "3", #""text""#, "{", #"{"a":}"#, "null"] {
            let call = ChatMessage.assistant(nil, toolCalls: [.init(id: "c", name: "f", arguments: arguments)])
            #expect(throws: ChatMemoryError.self, "\(arguments)") { try AnthropicMessages.request([.user("x"), call]) }
        }
    }

    @Test func anthropicPutsResultsBeforeWordsSentWhileToolsRan() throws {
        let call = ChatMessage.assistant(nil, toolCalls: [.init(id: "c", name: "f", arguments: "{}")])
        let request = try AnthropicMessages.request([.user("go"), call, .user("hurry"), .tool("done", callID: "c"), .user("thanks")])
        #expect(request.messages.last?.content == [.toolResult(toolUseID: "c", content: "done"), .text("hurry"), .text("thanks")])
        #expect(AnthropicMessages.ruleViolations(request).isEmpty)
    }

    @Test func anthropicLeavesOutEmptyMessagesAndMergesOneRole() throws {
        let request = try AnthropicMessages.request([.user("a"), .user(""), .user("b"), .assistant(""), .assistant("c")])
        #expect(request.messages == [.init(role: "user", content: [.text("a"), .text("b")]), .init(role: "assistant", content: [.text("c")])])
    }

    /// A user message with every kind of part (inline bytes "PNG" and "%PDF").
    private static let withParts = ChatMessage(id: "p", role: .user, parts: [
        .text("Compare"), .image(.bytes(Array("PNG".utf8), mediaType: "image/png")),
        .image(.url("https://x.test/b.jpg"), detail: .low), .file(.bytes(Array("%PDF".utf8), mediaType: "application/pdf"), name: "r.pdf"),
        .text(""),
    ], createdAt: at)

    @Test func partsMapToEachProvidersBlocks() throws {
        #expect(Self.text(try OpenAIChatCompletions.jsonData([Self.withParts])) == #"[{"content":["#
            + #"{"text":"Compare","type":"text"},{"image_url":{"url":"data:image/png;base64,UE5H"},"type":"image_url"},"#
            + #"{"image_url":{"detail":"low","url":"https://x.test/b.jpg"},"type":"image_url"},"#
            + #"{"file":{"file_data":"data:application/pdf;base64,JVBERg==","filename":"r.pdf"},"type":"file"},"#
            + #"{"text":"","type":"text"}],"role":"user"}]"#)
        #expect(Self.text(try OpenAIResponses.jsonData([Self.withParts])) == #"[{"content":["#
            + #"{"text":"Compare","type":"input_text"},{"detail":"auto","image_url":"data:image/png;base64,UE5H","type":"input_image"},"#
            + #"{"detail":"low","image_url":"https://x.test/b.jpg","type":"input_image"},"#
            + #"{"file_data":"data:application/pdf;base64,JVBERg==","filename":"r.pdf","type":"input_file"},"#
            + #"{"text":"","type":"input_text"}],"role":"user","type":"message"}]"#)
        #expect(Self.text(try AnthropicMessages.jsonData([Self.withParts])) == #"{"messages":[{"content":["#
            + #"{"text":"Compare","type":"text"},{"source":{"data":"UE5H","media_type":"image/png","type":"base64"},"type":"image"},"#
            + #"{"source":{"type":"url","url":"https://x.test/b.jpg"},"type":"image"},"#
            + #"{"source":{"data":"JVBERg==","media_type":"application/pdf","type":"base64"},"title":"r.pdf","type":"document"}],"#
            + #""role":"user"}]}"#)
        // A file by URL: the Responses API and Anthropic take it, Chat Completions does not.
        let byURL = ChatMessage(role: .user, parts: [.file(.url("https://x.test/a.pdf"))])
        #expect(Self.text(try OpenAIResponses.jsonData([byURL])).contains(#""file_url":"https://x.test/a.pdf""#))
        #expect(Self.text(try AnthropicMessages.jsonData([byURL])).contains(#""source":{"type":"url","url":"https://x.test/a.pdf"}"#))
        #expect(throws: ChatMemoryError.self) { try OpenAIChatCompletions.messages([byURL]) }
        // A file without a name gets one where OpenAI requires it.
        let unnamed = ChatMessage(role: .user, parts: [.file(.bytes([1], mediaType: "application/pdf"))])
        #expect(Self.text(try OpenAIChatCompletions.jsonData([unnamed])).contains(#""filename":"file.pdf""#))
        #expect(Self.text(try OpenAIResponses.jsonData([unnamed])).contains(#""filename":"file.pdf""#))
        #expect(MediaSource.bytes([], mediaType: "text/plain; charset=utf-8").defaultFileName() == "file.plain")
        #expect(MediaSource.bytes([], mediaType: "application/vnd.ms-excel").defaultFileName() == "file")
        #expect(MediaSource.bytes([], mediaType: "").defaultFileName() == "file")
        // Blank texts are not sent to Anthropic, and a blank block breaks rule 3.
        #expect(try AnthropicMessages.request([.user("q"), .assistant("  "), .user(" \n")]).messages.count == 1)
        let blank = AnthropicMessages.Request(system: nil, messages: [.init(role: "user", content: [.text(" ")])])
        #expect(AnthropicMessages.ruleViolations(blank).contains { $0.contains("empty text block") })
        // An image-only user message opens an Anthropic request too.
        let imageOnly = ChatMessage(role: .user, parts: [.image(.url("https://x.test/c.png"))])
        #expect(AnthropicMessages.ruleViolations(try AnthropicMessages.request([imageOnly, .assistant("a cat")])).isEmpty)
    }

    @Test func imagesAndFilesGoInUserMessagesOnlyAndTextPartsAnywhere() throws {
        for role in [ChatMessage.Role.system, .assistant, .tool] {
            var message = ChatMessage(role: role, parts: [.text("see"), .image(.url("https://x.test/i.png"))])
            message.toolCallID = "c"
            #expect(throws: ChatMemoryError.self) { try OpenAIChatCompletions.messages([message]) }
            #expect(throws: ChatMemoryError.self) { try OpenAIResponses.input([message]) }
            #expect(throws: ChatMemoryError.self) { try AnthropicMessages.request([message]) }
            message.parts = [.text("one"), .text("two")]
            #expect(try OpenAIChatCompletions.messages([message]).first?.content == .text("one\ntwo"))
        }
        let reply = ChatMessage(role: .assistant, parts: [.text("a"), .text("b")])
        #expect(try AnthropicMessages.request([.user("q"), reply]).messages[1].content == [.text("a\nb")])
    }

    @Test func everyRuleIsCaught() {
        typealias M = AnthropicMessages.Message
        let use = AnthropicMessages.Block.toolUse(id: "c", name: "f", input: [:])
        let result = AnthropicMessages.Block.toolResult(toolUseID: "c", content: "r")
        let cases: [(String, [M])] = [
            ("is not a user message", [M(role: "assistant", content: [.text("a")])]),
            ("has the role of the message before it", [M(role: "user", content: [.text("a")]), M(role: "user", content: [.text("b")])]),
            ("is empty", [M(role: "user", content: [])]),
            ("has an empty text block", [M(role: "user", content: [.text("")])]),
            ("has no tool_result in the next message", [M(role: "user", content: [.text("a")]), M(role: "assistant", content: [use])]),
            ("comes after another block", [M(role: "user", content: [.text("a")]), M(role: "assistant", content: [use]),
                                           M(role: "user", content: [.text("b"), result])]),
            ("answers no tool_use of the message before", [M(role: "user", content: [result])]),
            ("is used twice", [M(role: "user", content: [.text("a")]), M(role: "assistant", content: [use]), M(role: "user", content: [result]),
                               M(role: "assistant", content: [use]), M(role: "user", content: [result])]),
        ]
        for (rule, messages) in cases {
            let broken = AnthropicMessages.ruleViolations(.init(system: nil, messages: messages))
            #expect(broken.contains { $0.contains(rule) }, "\(rule): \(broken)")
        }
        let valid = [M(role: "user", content: [.text("a")]), M(role: "assistant", content: [.text("t"), use]), M(role: "user", content: [result, .text("b")])]
        #expect(AnthropicMessages.ruleViolations(.init(system: nil, messages: valid)).isEmpty)
    }

    /// A well-formed history: user turns (some with an image or a file), assistant replies, tool
    /// calls (1 to 3, answered in any order, sometimes with text), starting with a user message.
    private static func generated(seed: UInt64) -> [ChatMessage] {
        var random = SplitMix64(seed: seed)
        var messages: [ChatMessage] = [.user("start")]
        var call = 0
        for turn in 0..<Int.random(in: 1...12, using: &random) {
            if Bool.random(using: &random) {
                let calls = (0..<Int.random(in: 1...3, using: &random)).map { _ -> ChatMessage.ToolCall in
                    call += 1
                    return .init(id: "c\(call)", name: "f", arguments: #"{"n":\#(call)}"#)
                }
                messages.append(.assistant(Bool.random(using: &random) ? "let me check" : nil, toolCalls: calls))
                for answered in calls.shuffled(using: &random) { messages.append(.tool("r", callID: answered.id)) }
            }
            messages.append(.assistant("reply \(turn)"))
            switch Int.random(in: 0..<4, using: &random) {
            case 0: messages.append(ChatMessage(role: .user, parts: [.text("see"), .image(.url("https://x.test/\(turn).png"), detail: .low)]))
            case 1: messages.append(ChatMessage(role: .user, parts: [.file(.bytes([1, 2, 3], mediaType: "application/pdf"), name: "f.pdf")]))
            default: messages.append(.user("next \(turn)"))
            }
        }
        return messages
    }

    /// Images and files that fit the generated budgets (20 to 2,000 tokens).
    private static var smallMedia: ChatMemoryConfiguration {
        var configuration = ChatMemoryConfiguration()
        var counter = ApproximateTokenCounter()
        counter.mediaTokens = MediaTokenEstimate(unsizedImage: 30, file: 30)
        configuration.tokenCounter = counter
        return configuration
    }

    @Test func generatedHistoriesEncodeWithinEveryRule() throws {
        for seed in 0..<500 as Range<UInt64> {
            let history = Self.generated(seed: seed)
            let request = try AnthropicMessages.request([.system("sys")] + history)
            #expect(AnthropicMessages.ruleViolations(request).isEmpty, "seed \(seed)")
            #expect(try OpenAIChatCompletions.messages(history).count == history.count)
            let calls = history.reduce(0) { $0 + $1.toolCalls.count }
            let silent = history.filter { $0.role == .assistant && $0.content == nil }.count
            #expect(try OpenAIResponses.input(history).count == history.count + calls - silent)
            // Every suffix that starts at a user text is a valid conversation too; one that starts
            // at a tool result orphans it, and the rules say so.
            for start in history.indices {
                let suffix = Array(history[start...])
                let broken = AnthropicMessages.ruleViolations(try AnthropicMessages.request(suffix))
                switch history[start].role {
                case .user: #expect(broken.isEmpty, "seed \(seed) from \(start)")
                case .tool: #expect(broken.contains { $0.contains("answers no tool_use") }, "seed \(seed) from \(start)")
                case .assistant: #expect(broken.contains { $0.contains("is not a user message") }, "seed \(seed) from \(start)")
                case .system: break
                }
            }
        }
    }

    @Test func modelSafeWindowsThatStartWithTheUserFollowEveryRule() async throws {
        var checked = 0
        for seed in 0..<60 as Range<UInt64> {
            let chat = try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: Self.smallMedia).session("generated")
            try await chat.append(contentsOf: Self.generated(seed: seed))
            for budget in [20, 60, 150, 400, 2_000] {
                guard let window = try? await chat.window(tokenLimit: budget), window.messages.first?.role == .user else { continue }
                let broken = AnthropicMessages.ruleViolations(try AnthropicMessages.request(window.messages))
                #expect(broken.isEmpty, "seed \(seed), budget \(budget): \(broken)")
                checked += 1
            }
        }
        #expect(checked >= 100, "only \(checked) windows started with a user message")
    }

    @Test func everyAnthropicSafeWindowFollowsEveryRule() async throws {
        var nonEmpty = 0
        for seed in 0..<60 as Range<UInt64> {
            let chat = try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: Self.smallMedia).session("generated")
            try await chat.append(contentsOf: Self.generated(seed: seed))
            for budget in [20, 60, 150, 400, 2_000] {
                let window: ChatWindow
                do {
                    window = try await chat.window(tokenLimit: budget, policy: .anthropicSafe)
                } catch let error as ChatMemoryError where error.code == .messageExceedsBudget {
                    continue
                }
                let request = try AnthropicMessages.request(window.messages)
                #expect(AnthropicMessages.ruleViolations(request).isEmpty, "seed \(seed), budget \(budget)")
                if !request.messages.isEmpty { nonEmpty += 1 }
            }
        }
        #expect(nonEmpty >= 200)
    }
}
