/// A reply from Redis, copied out of hiredis into a Swift value.
///
/// Strings are kept as bytes: Redis values are binary, and only the caller knows whether they are
/// UTF-8. Server errors are not values: they are thrown as ``RedisError`` by the client.
///
/// ```swift
/// let reply = try await client.send("LRANGE", "chat:42", "0", "9")
/// for item in reply.array ?? [] { print(item.string ?? "<binary>") }
/// ```
public enum RedisValue: Sendable, Hashable {
    /// A bulk string (binary safe). The strings of one array reply share one buffer (see ``RedisBytes``).
    case bulkString(RedisBytes)
    /// A simple status reply such as `OK` or `QUEUED`.
    case status(String)
    case integer(Int64)
    case array(RedisArray)
    /// A nil bulk string or nil array.
    case null
    /// An error nested inside an array (for example one command of an `EXEC`).
    indirect case error(RedisError)
    /// RESP3 double (hiredis 1.x only).
    case double(Double)
    /// RESP3 boolean (hiredis 1.x only). RESP3 maps, sets and pushes arrive as flat arrays.
    case boolean(Bool)
}

extension RedisValue {
    /// A bulk string of these bytes.
    public static func bulkString(_ bytes: [UInt8]) -> RedisValue {
        .bulkString(RedisBytes(bytes))
    }

    /// An array of these values.
    public static func array(_ values: [RedisValue]) -> RedisValue {
        .array(RedisArray(values))
    }

    /// The bytes of a bulk string or status reply, as an array of their own (see ``RedisBytes/array``).
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): return bytes.array
        case .status(let text): return Array(text.utf8)
        default: return nil
        }
    }

    /// A bulk string or status decoded as UTF-8; `nil` for other replies or invalid UTF-8.
    public var string: String? {
        switch self {
        case .bulkString(let bytes): return String(validating: bytes, as: UTF8.self)
        case .status(let text): return text
        default: return nil
        }
    }

    /// An integer reply, or a bulk string holding a decimal integer.
    public var int: Int? {
        switch self {
        case .integer(let value): return Int(exactly: value)
        case .bulkString(let bytes): return String(validating: bytes, as: UTF8.self).flatMap { Int($0) }
        default: return nil
        }
    }

    /// The elements of an array reply; `nil` for other replies (including a nil array).
    public var array: RedisArray? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// True for a nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension RedisValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .bulkString(let bytes):
            if let text = String(validating: bytes, as: UTF8.self) { return "\"\(text)\"" }
            return "<\(bytes.count) bytes>"
        case .status(let text): return text
        case .integer(let value): return "(integer) \(value)"
        case .array(let items): return items.description
        case .null: return "(nil)"
        case .error(let error): return "(error) \(error)"
        case .double(let value): return "(double) \(value)"
        case .boolean(let value): return "(boolean) \(value)"
        }
    }
}
