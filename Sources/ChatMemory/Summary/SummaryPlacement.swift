/// Where a window puts the session's summary (see ``ChatSession/window(tokenLimit:reserving:policy:summary:logger:)``).
///
/// ```swift
/// let window = try await chat.window(tokenLimit: 3000, summary: .leading(as: .user))
/// ```
public struct SummaryPlacement: Sendable, Hashable {
    enum Kind: Hashable {
        case leading(ChatMessage.Role)
        case asStored
        case excluded
    }

    let kind: Kind

    /// First in the window, as a system message, counted in the budget (the default of
    /// ``WindowPolicy/modelSafe`` and ``WindowPolicy/anthropicSafe``). Left out when it does not fit together with the newest unit.
    public static let leading = SummaryPlacement(kind: .leading(.system))
    /// Like ``leading``, as a message of `role` (not `.tool`: a tool result needs its call).
    public static func leading(as role: ChatMessage.Role) -> SummaryPlacement { SummaryPlacement(kind: .leading(role)) }
    /// As it is stored: the session's oldest message, a system message, in the window only when
    /// everything newer fits (the default of ``WindowPolicy/llamaIndex``, whose windows stay
    /// what they were before summaries).
    public static let asStored = SummaryPlacement(kind: .asStored)
    /// Never in the window.
    public static let excluded = SummaryPlacement(kind: .excluded)
}
