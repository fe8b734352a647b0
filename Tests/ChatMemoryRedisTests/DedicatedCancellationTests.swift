import ChatMemoryRedis
import Foundation
import Testing

/// Cancelling the task that holds a dedicated connection ends a blocking read on it: the
/// connection is the caller's alone, so it is closed rather than left blocked.
@Suite struct DedicatedCancellationTests {
    @Test func cancellingATaskBlockedOnADedicatedConnectionEndsTheRead() async throws {
        let name = uniqueClientName()
        try await withClient({ $0.clientName = name }) { client in
            let key = TestServer.key()
            let blocked = Task { try await client.withDedicatedConnection { try await $0.send("BLPOP", key, 0) } }
            try await waitUntil { try await isBlocked(clientNamed: name) }
            // Should the read not end, this push ends it after a while, and the test fails
            // (the task returns a value) instead of hanging.
            let rescue = Task { try await Task.sleep(for: .seconds(120)); try await release(key) }
            blocked.cancel()
            await #expect(throws: (any Error).self) { _ = try await blocked.value }
            rescue.cancel()
            try await waitUntil { try await !isBlocked(clientNamed: name) }
            #expect(try await client.send("PING").string == "PONG")
        }
    }
}
