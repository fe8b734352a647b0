/// Errors thrown while loading an encoding or decoding token ids.
///
/// ```swift
/// do { _ = try tokenizer.decode([999_999_999]) }
/// catch .unknownTokenID(let id) { print("no token \(id)") }
/// ```
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A bundled rank file was found in none of the `searched` folders (see `Tokenizer.bundled`).
    case missingResource(file: String, searched: [String])
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

    public var description: String {
        switch self {
        case .missingResource(let file, let searched):
            """
            the tokenizer's rank file \(file) was not found in \(searched.joined(separator: ", ")) \
            (in the bundle \(BundledRankFiles.bundleName), its Resources folder, or alone). Copy \
            \(BundledRankFiles.bundleName) from the build folder (.build/release) next to the \
            executable, or set \(BundledRankFiles.environmentVariable) to the folder that holds it
            """
        case .unreadableRankFile(let path, let reason):
            "cannot read the rank file \(path): \(reason)"
        case .malformedRankFile(let line, let reason):
            "malformed rank file, line \(line): \(reason)"
        case .hashMismatch(let expected, let actual):
            "the rank file is damaged or not the expected one: its SHA-256 is \(actual), expected \(expected)"
        case .missingByteToken(let byte):
            "the rank file has no token for the byte \(byte)"
        case .conflictingSpecialToken(let text):
            "the special token \(text) has the id of an ordinary token"
        case .unknownTokenID(let id):
            "no token has the id \(id)"
        }
    }
}
