import ChatMemory

/// Produces the assistant's reply from the window of the conversation the store handed over.
///
/// A real deployment calls an LLM API here; the window is exactly what it would be sent.
protocol ChatModel: Sendable {
    /// `window` is oldest first and ends with the user's newest message.
    func reply(to window: [ChatMessage]) async throws -> String
}

/// A deterministic, offline responder that proves what it was shown: it says how many earlier
/// messages the window held and quotes every earlier user turn, oldest first.
///
/// ```text
/// I remember 4 earlier messages; you said: «hello», «my name is Ada». Now: «what is my name?»
/// ```
struct RecallingModel: ChatModel {
    func reply(to window: [ChatMessage]) async throws -> String {
        guard let current = window.last else { return "I was given nothing to answer." }
        let earlier = window.dropLast()
        let said = earlier.filter { $0.role == .user }.map { "«\($0.content ?? "")»" }
        let memory = said.isEmpty ? "nothing yet" : said.joined(separator: ", ")
        return "I remember \(earlier.count) earlier messages; you said: \(memory). Now: «\(current.content ?? "")»"
    }
}
