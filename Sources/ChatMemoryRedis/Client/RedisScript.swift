/// A Lua script run with `EVALSHA`; when the server does not know it yet (`NOSCRIPT`, for example
/// after a restart or `SCRIPT FLUSH`), the client loads it and runs it again in the same round trip.
///
/// ```swift
/// let incrementBy = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
/// let total = try await client.evaluate(incrementBy, keys: ["counter"], arguments: ["5"])
/// ```
public struct RedisScript: Sendable, Hashable {
    /// The Lua source.
    public let source: String
    /// The SHA-1 digest Redis names the script by.
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = sha1Hex(Array(source.utf8))
    }
}
