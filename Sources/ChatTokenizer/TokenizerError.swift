/// Errors thrown while loading an encoding or decoding token ids.
///
/// ```swift
/// do { _ = try tokenizer.decode([999_999_999]) }
/// catch .unknownTokenID(let id) { print("no token \(id)") }
/// ```
public enum TokenizerError: Error, Equatable, Sendable {
    /// A bundled rank file is missing from the module's resources.
    case missingResource(String)
    /// The rank file could not be read.
    case unreadableRankFile(path: String, reason: String)
    /// A line of the rank file is not `base64-token SPACE rank`, or repeats a token or rank.
    case malformedRankFile(line: Int, reason: String)
    /// The rank file's SHA-256 differs from the expected one (both lowercase hex).
    case hashMismatch(expected: String, actual: String)
    /// The rank file lacks the single-byte token for this byte, so some inputs could not be encoded.
    case missingByteToken(UInt8)
    /// A special token's id collides with an ordinary token's rank.
    case conflictingSpecialToken(String)
    /// `decode` met an id that is neither a rank nor a special token.
    case unknownTokenID(Int)
}
