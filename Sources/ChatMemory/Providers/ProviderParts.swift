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

    /// Whether a user message is sent as parts (it has parts that are not all text, or more
    /// than one), rather than as one text.
    static func sendsParts(_ message: ChatMessage) -> Bool {
        message.role == .user && !message.parts.isEmpty
    }
}
