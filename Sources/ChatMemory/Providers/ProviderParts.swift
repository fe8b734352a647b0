/// What the provider encoders share about a message's ``ChatMessage/parts``.
enum ProviderParts {
    /// The text a message sends where only text can go: its text parts joined by newlines when
    /// it has parts, its ``ChatMessage/content`` otherwise. Throws when a part that is not text
    /// would be lost: images and files go in user messages only.
    static func text(of message: ChatMessage, api: String) throws(ChatMemoryError) -> String? {
        guard !message.parts.isEmpty else { return message.content }
        if message.parts.contains(where: { $0.text == nil }) {
            throw .invalidMessage("message \(message.id): \(api) takes images and files in user messages only "
                + "(this one is a \(message.role.rawValue) message)")
        }
        return ChatMessage.joinedText(of: message.parts)
    }

    /// Whether a message is sent as parts: a user message that has any (others send their text).
    static func sendsParts(_ message: ChatMessage) -> Bool {
        message.role == .user && !message.parts.isEmpty
    }

    /// Whether `text` is empty or whitespace only: Anthropic refuses such a text block.
    static func isBlank(_ text: String) -> Bool {
        text.allSatisfy(\.isWhitespace)
    }

    /// The text Anthropic is sent for a message's text (its non-blank text parts joined by
    /// newlines, or its content), `nil` when that is blank.
    static func sendableText(of message: ChatMessage) -> String? {
        let text = message.parts.isEmpty ? message.content
            : ChatMessage.joinedText(of: message.parts.filter { $0.text.map { !isBlank($0) } ?? false })
        return text.flatMap { isBlank($0) ? nil : $0 }
    }
}
