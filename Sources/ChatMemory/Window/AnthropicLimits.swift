/// Where an Anthropic-safe window may start, read off the messages a window builder has seen
/// (oldest first), as ``AnthropicMessages/request(_:)`` would encode them: system messages go to
/// `system`, messages with nothing to send are left out, and consecutive messages of one role
/// merge (tool results are user content).
///
/// - ``opensRequest``: the first message a window starting there would send is a user message
///   with text, an image or a file (rule 1; a window with nothing to send opens nothing wrong either).
/// - ``barrier``: the newest message that no window may reach: an assistant message with a call
///   that the next encoded message does not answer (rule 4: a call never answered, or answered
///   only after another assistant message), the older of two calls with one id (rule 7), or a
///   tool result that answers no call of the turn before it while its call (or none, without a
///   call id) was read (rule 6; a result whose call was not read is ruled out by
///   ``ModelSafeWindow``'s matching until it is).
///   Every window starts after it.
/// - ``pendingCall``: the history ends in an assistant turn whose calls are not all answered
///   and no user text follows: the tools are still running, and no window can be sent.
/// - ``pendingSettled``: the messages hold enough of the history's end to say whether its tools
///   are still running (a user message with text ends it, or its last assistant turn is whole:
///   a message sent by the user side comes before it).
struct AnthropicLimits {
    private(set) var opensRequest: [Bool]
    private(set) var barrier = -1
    private(set) var pendingCall: (index: Int, callID: String)?
    private(set) var pendingSettled = false

    /// The side of the conversation a message is sent on, or `nil` when it is not sent in
    /// `messages` (a system message, or one with no text and no tool call).
    private static func side(_ message: ChatMessage) -> ChatMessage.Role? {
        let hasText = ProviderParts.sendableText(of: message) != nil
        switch message.role {
        case .system: return nil
        case .user: return hasText || message.parts.contains { $0.text == nil } ? .user : nil
        case .tool: return .user
        case .assistant: return hasText || !message.toolCalls.isEmpty ? .assistant : nil
        }
    }

    init(_ chronological: [ChatMessage]) {
        let n = chronological.count
        opensRequest = [Bool](repeating: true, count: n)
        var next = true
        for s in stride(from: n - 1, through: 0, by: -1) {
            if let side = Self.side(chronological[s]) { next = side == .user && chronological[s].role == .user }
            opensRequest[s] = next
        }

        // Walk the encoded turns: each assistant turn's calls must be answered by the user turn after it.
        var newestHolder: [String: Int] = [:]  // call id -> the newest assistant message calling it
        var turnCalls: [(index: Int, id: String)] = []
        var answered: Set<String> = []
        var userTurnHasText = false
        var inUserTurn = false
        var assistantTurnIsWhole = false
        for (index, message) in chronological.enumerated() {
            guard let side = Self.side(message) else { continue }
            if side == .assistant {
                if inUserTurn {
                    assistantTurnIsWhole = true
                    closeAssistantTurn(turnCalls, answered: answered)
                    turnCalls = []
                    answered = []
                    inUserTurn = false
                    userTurnHasText = false
                }
                for call in message.toolCalls {
                    if let older = newestHolder[call.id] { barrier = max(barrier, older) }
                    newestHolder[call.id] = index
                    turnCalls.append((index, call.id))
                }
            } else {
                inUserTurn = true
                guard message.role == .tool else {
                    userTurnHasText = true
                    continue
                }
                // A result that answers no call of the turn before it breaks rule 6: never sent,
                // when it has no call id or its call was read in an older turn. One whose call
                // was not read (further back, or nowhere) is left to the caller's matching, which
                // keeps every window after it until the call is read.
                guard let id = message.toolCallID else {
                    barrier = max(barrier, index)
                    continue
                }
                if !turnCalls.contains(where: { $0.id == id }), newestHolder[id] != nil { barrier = max(barrier, index) }
                answered.insert(id)
            }
        }
        closeAssistantTurn(turnCalls, answered: answered)
        pendingSettled = userTurnHasText || assistantTurnIsWhole
        if !userTurnHasText, let unanswered = turnCalls.last(where: { !answered.contains($0.id) }) {
            pendingCall = (unanswered.index, unanswered.id)
        }
    }

    private mutating func closeAssistantTurn(_ calls: [(index: Int, id: String)], answered: Set<String>) {
        for call in calls where !answered.contains(call.id) { barrier = max(barrier, call.index) }
    }
}
