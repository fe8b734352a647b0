import Foundation
import Testing
@testable import ChatMemory

/// The encoders and the Anthropic-safe window on the LlamaIndex fixture's 648 histories (tool
/// chains, parallel calls, fragments that start with results or assistant messages, messages
/// with no content): every window is the one the rules allow (histories of up to 48 messages,
/// whose every suffix the reference encodes), and encodes within every rule.
@Suite("Provider encoders on the LlamaIndex fixture")
struct ProviderFixtureTests {
    @Test func anthropicSafeWindowsOfTheFixtureFollowEveryRule() async throws {
        let fixture = try LlamaIndexFixtureTests.load()
        let counter = try TiktokenCounter(.cl100kBase)
        var histories: [[ChatMessage]] = []
        var seen = Set<[ChatMessage]>()
        for c in fixture.cases {
            let history = try LlamaIndexFixtureTests.history(c)
            if seen.insert(history).inserted { histories.append(history) }
        }
        #expect(histories.count >= 600)
        var windows = 0, nonEmpty = 0
        for history in histories {
            await Task.yield()
            let counted = history.map { CountedMessage(message: $0, counter: counter) }
            // Every encoder takes the whole history (arguments that are not an object aside).
            #expect(try OpenAIChatCompletions.messages(history).count == history.count)
            _ = try OpenAIResponses.input(history)
            // The reference encodes every suffix: the longest histories are checked by the rules alone.
            let valid = history.count <= 48 ? try WindowAnthropicSafeTests.validStarts(history) : nil
            for budget in [1, 15, 60, 250, 1_000, 1 << 40] {
                let expected = try valid.map { try WindowAnthropicSafeTests.reference(counted, budget: budget, valid: $0) }
                for pageSize in [3, nil] as [Int?] {
                    let result = try windowTestRun(counted, policy: .anthropicSafe, tokenLimit: budget, counter: counter,
                                                   pageSize: pageSize).window
                    if let expected { #expect(WindowOutcome(result) == expected, "\(WindowAnthropicSafeTests.describe(counted)) at \(budget)") }
                    guard case .success(let window) = result else { continue }
                    let request = try AnthropicMessages.request(window.messages)
                    #expect(AnthropicMessages.ruleViolations(request).isEmpty)
                    windows += 1
                    if !request.messages.isEmpty { nonEmpty += 1 }
                }
            }
        }
        #expect(nonEmpty >= 2_000, "\(nonEmpty) of \(windows) windows hold a message")
    }
}
