/// One Redis command as an argument vector: the command name and its arguments, each sent to the
/// server as a length-prefixed byte string. Nothing is ever interpolated into a format string, so
/// any bytes (spaces, `\r\n`, `%s`, NUL, invalid UTF-8) arrive exactly as given.
///
/// ```swift
/// let push = RedisCommand("LPUSH", "chat:42", #"{"role":"user"}"#)
/// let range = RedisCommand("LRANGE", "chat:42", 0, 9)
/// ```
public struct RedisCommand: Sendable, Hashable {
    /// The command name followed by its arguments.
    public var arguments: [[UInt8]]

    /// A command from raw argument bytes; the first element is the command name.
    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// A command from a name and arguments of any convertible type.
    public init(_ name: String, _ arguments: any RedisArgument...) {
        self.init(name, arguments)
    }

    /// A command from a name and an array of arguments.
    public init(_ name: String, _ arguments: [any RedisArgument]) {
        var all: [[UInt8]] = [Array(name.utf8)]
        all.reserveCapacity(arguments.count + 1)
        for argument in arguments { all.append(argument.redisBytes) }
        self.arguments = all
    }

    /// The command name as text, for logs (never the arguments, which may hold secrets).
    public var name: String {
        arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? ""
    }
}

/// A value that can be sent as one argument of a command.
public protocol RedisArgument: Sendable {
    /// The bytes sent to the server.
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension ArraySlice: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { Array(self) }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Int64: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}

extension Double: RedisArgument {
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}
