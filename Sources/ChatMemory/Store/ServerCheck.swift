import ChatMemoryRedis
import Logging
import Synchronization

/// Checks, once per storage and before its first append, that the server has what the append
/// script needs: `LPOS` (Redis 6.0.6, any Valkey), the newest of its commands; `SCAN ... TYPE`
/// (6.0) and `WAIT` are older. A server without it fails with
/// ``ChatMemoryError/Code/unsupportedServer``, having written nothing.
final class ServerCheck: Sendable {
    private let passed = Atomic<Bool>(false)

    /// Read-only: `LPOS` on the session's key (so it reaches the key's node and the key's ACL
    /// rules), looking at one element at most. 0 when the server does not know the command.
    static let script = RedisScript(#"""
        local reply = redis.pcall('LPOS', KEYS[1], '', 'MAXLEN', 1)
        if type(reply) == 'table' and reply.err and string.find(string.lower(reply.err), 'unknown', 1, true) then
          return 0
        end
        return 1
        """#)

    static let minimum = "the chat memory's scripts need LPOS: Redis 6.0.6 or later, or Valkey"

    /// Returns at once once a check passed; else asks the server holding `key`.
    func ensure(_ client: RedisClient, key: [UInt8], logger: Logger) async throws {
        if passed.load(ordering: .acquiring) { return }
        let reply = try await client.evaluate(Self.script, keys: [key], logger: logger)
        guard reply.int == 1 else { throw ChatMemoryError.unsupportedServer("it has no LPOS command; \(Self.minimum)") }
        passed.store(true, ordering: .releasing)
    }
}
