import ChatMemoryRedis

extension RedisValue {
    /// The kind and size of a reply, never its content (which may hold messages), for the
    /// errors about replies of an unexpected shape.
    var shape: String {
        switch self {
        case .bulkString(let bytes): return "a string of \(bytes.count) bytes"
        case .status: return "a status reply"
        case .integer: return "an integer"
        case .array(let items): return "an array of \(items.count) (" + items.prefix(4).map(\.shape).joined(separator: ", ") + (items.count > 4 ? ", …)" : ")")
        case .null: return "null"
        case .error(let error): return "an error (\(error.code))"
        case .double: return "a double"
        case .boolean: return "a boolean"
        }
    }
}
