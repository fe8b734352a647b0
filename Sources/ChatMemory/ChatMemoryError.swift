/// Errors thrown by chat memory, as values a caller can switch over.
///
/// ```swift
/// do {
///     let window = try builder.finish(historyExhausted: true)
/// } catch ChatMemoryError.messageExceedsBudget(let id, let tokens, let budget) {
///     print("message \(id) needs \(tokens) tokens, only \(budget) available")
/// }
/// ```
public enum ChatMemoryError: Error, Sendable, Equatable {
    /// The token budget is unusable: `tokenLimit < 1`, `reserving < 0` or `reserving > tokenLimit`.
    case invalidTokenBudget(tokenLimit: Int, reserving: Int)
    /// The newest unit of the history (a message, or an assistant tool call with its results)
    /// needs more than the whole budget (`tokenLimit - reserving`), so no window can be built.
    /// `messageID` is the unit's first message, `tokens` the unit's total.
    case messageExceedsBudget(messageID: String, tokens: Int, budget: Int)
    /// The session id is empty or longer than ``SessionID/maxLength`` bytes.
    case invalidSessionID(String)
    /// The session's key exists but is not a list (someone else wrote it).
    case wrongKeyType(key: String)
    /// A message is larger than ``ChatMemoryConfiguration/maxMessageBytes`` (UTF-8 bytes of all
    /// its text); nothing was written.
    case messageTooLarge(messageID: String, bytes: Int, limit: Int)
    /// A message is not valid, for example it has an empty id (the text says why).
    case invalidMessage(String)
    /// A setting is out of range (the text says which).
    case invalidConfiguration(String)
    /// An append with ``ChatMemoryConfiguration/replication`` set was stored on the primary, but
    /// only `acknowledged` of the `required` replicas confirmed it in time: it may be lost if the
    /// primary fails now. Retrying the append is safe (it stores nothing twice).
    case replicationIncomplete(acknowledged: Int, required: Int)
    /// The store answered in a form the chat memory does not expect.
    case unexpectedReply(String)
}
