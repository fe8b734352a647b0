/// The stable id of one conversation. Any byte sequence of 1 to 512 bytes is valid and
/// round-trips exactly (spaces, `\r\n`, `{`, `*`, NUL, any UTF-8, even invalid UTF-8).
///
/// ```swift
/// let id: SessionID = "user-42/conversation-7"
/// let raw = try SessionID(bytes: [0x00, 0xFF, 0x41])
/// ```
public struct SessionID: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The longest id accepted, in bytes.
    public static let maxLength = 512

    /// The id's bytes, exactly as stored in the Redis key after the prefix.
    public let bytes: [UInt8]

    /// An id from raw bytes; throws ``ChatMemoryError/invalidSessionID(_:)`` when empty or longer than 512 bytes.
    public init(bytes: [UInt8]) throws(ChatMemoryError) {
        guard !bytes.isEmpty else { throw .invalidSessionID("a session id must not be empty") }
        guard bytes.count <= Self.maxLength else {
            throw .invalidSessionID("a session id has at most \(Self.maxLength) bytes (got \(bytes.count))")
        }
        self.bytes = bytes
    }

    /// An id from text (its UTF-8 bytes).
    public init(_ text: String) throws(ChatMemoryError) {
        try self.init(bytes: Array(text.utf8))
    }

    /// A literal id; a literal that is empty or too long stops the program, as any invalid literal.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    /// The id as text when it is UTF-8, otherwise with invalid bytes replaced (for display).
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The id as text, or `nil` when its bytes are not valid UTF-8.
    public var string: String? { String(validating: bytes, as: UTF8.self) }

    public static func < (lhs: SessionID, rhs: SessionID) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
