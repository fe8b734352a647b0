@testable import ChatMemory
import ChatMemoryRedis
import Testing

/// Errors about a reply of an unexpected shape name its kind and size, never its content (which
/// may hold users' messages).
@Suite struct ReplyShapeTests {
    @Test func aShapeNeverShowsContent() {
        let secret = "my card number is 4111 1111 1111 1111"
        let reply = RedisValue.array([.bulkString(Array(secret.utf8)), .status(secret), .array([.bulkString(Array(secret.utf8))]),
                                      .integer(7), .null, .error(.server("ERR " + secret)), .double(1), .boolean(true)])
        #expect(!reply.shape.contains("4111"))
        #expect(reply.shape == "an array of 8 (a string of 37 bytes, a status reply, an array of 1 (a string of 37 bytes), an integer, …)")
        #expect(RedisValue.error(.server("ERR " + secret)).shape == "an error (server(ERR))")
        let error = ChatMemoryError.unexpectedReply("LRANGE returned \(reply.shape)")
        #expect(!"\(error)".contains("4111"))
    }
}
