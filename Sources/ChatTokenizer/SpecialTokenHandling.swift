/// How `encode` and `count` treat the text of special tokens such as `<|endoftext|>`.
public enum SpecialTokenHandling: Sendable, Hashable {
    /// Every special token in the text becomes its single id, like tiktoken's `allowed_special="all"`.
    case allowAll
    /// Special tokens are ordinary text, like tiktoken's `encode_ordinary`.
    case plainText
}
