/// Folds messages into a running summary. The library never calls a model: you do, here.
///
/// ```swift
/// struct ModelSummarizer: ChatSummarizer {
///     let model: MyModelClient
///     func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
///         try await model.complete("Update this summary: \(previous ?? "(none)") with: \(messages)")
///     }
/// }
/// ```
public protocol ChatSummarizer: Sendable {
    /// The new summary text: `previous` (the session's summary so far, `nil` for the first
    /// compaction) updated with `messages`, the oldest messages of the session, oldest first.
    /// Throwing (or being cancelled) abandons the compaction with nothing changed.
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String
}
