import Foundation
@testable import ChatMemoryRedis
import Testing

/// A RESP3 push (here a client-tracking invalidation) that reaches the read buffer between two
/// replies is never taken for the second command's reply, however the replies are read: one at a
/// time, or from what is already buffered (as the I/O thread answers several requests at once).
@Suite struct PushReplyTests {
    @Test func aPushBetweenBufferedRepliesIsNotTakenForAReply() async throws {
        try await withPrivateServer { server in
            let configuration = server.configuration()
            // The socket work runs on a thread of its own: it waits on the server.
            let outcome: Result<[RedisValue], RedisError> = await withCheckedContinuation { continuation in
                Thread {
                    continuation.resume(returning: Result { () throws(RedisError) -> [RedisValue] in
                        let context = try HiredisContext(configuration: configuration)
                        for reply in try context.pipeline([RedisCommand("HELLO", "3"), RedisCommand("CLIENT", "TRACKING", "ON"), RedisCommand("GET", "tracked")]) {
                            _ = try reply.get()
                        }
                        // Its own write invalidates the key it tracks: the push follows SET's reply, before ECHO's.
                        try context.appendEncoded(RESPEncoding.encode([RedisCommand("SET", "tracked", "1"), RedisCommand("ECHO", "after")]))
                        let first = try context.readReply().get()
                        while true {
                            if let second = try context.bufferedReply() { return [first, try second.get()] }
                            try context.readAvailable()
                        }
                    })
                }.start()
            }
            if HiredisContext.readsRESP3 {
                let replies = try outcome.get()
                #expect(replies == [.status("OK"), .bulkString(Array("after".utf8))])
            } else {
                // hiredis 0.14 cannot read RESP3 at all: HELLO 3's reply is a protocol error.
                #expect(throws: RedisError.self) { try outcome.get() }
            }
        }
    }
}
