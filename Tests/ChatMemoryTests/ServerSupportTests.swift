import ChatMemory
import ChatMemoryRedis
import Foundation
import Testing

/// A server too old for the chat memory is refused with one typed error before anything is
/// written. The old server here is a real one without `LPOS` (renamed away, as on Redis before
/// 6.0.6): the append script's newest command.
@Suite struct ServerSupportTests {
    @Test func aServerWithoutLPOSIsRefusedBeforeTheFirstWrite() async throws {
        try await withPrivateClient(["--rename-command", "LPOS", ""]) { client in
            let memory = try RedisChatMemory(client: client)
            let chat = memory.session("old-server")
            let appends: [@Sendable () async throws -> Void] = [
                { _ = try await chat.append(ChatMessage(role: .user, content: "hello")) },
                // Checked again until a check passes: a refused server stays refused.
                { _ = try await chat.append(ChatMessage(role: .user, content: "hello")) },
                { _ = try await chat.append(contentsOf: [ChatMessage(role: .user, content: "a"), ChatMessage(role: .assistant, content: "b")]) },
            ]
            for append in appends {
                let error = await #expect(throws: ChatMemoryError.self) { try await append() }
                #expect(error?.code == .unsupportedServer)
                #expect(error?.reason?.contains("LPOS") == true && error?.reason?.contains("6.0.6") == true)
                #expect(error?.description.hasPrefix("the Redis server is too old for chat memory: it has no LPOS command") == true)
            }
            // Nothing of any call was written.
            #expect(try await client.send("DBSIZE") == .integer(0))
        }
    }

    /// A server at its `maxmemory` (no eviction) refuses an append with `OOM` and nothing is
    /// written, although the script's first write commands (the cap's and the time to live's
    /// no-op tries) add no memory; a retry of what is stored, which adds nothing, still works.
    @Test func aFullServerRefusesAnAppendWithOOMAndWritesNothing() async throws {
        try await withPrivateClient([]) { client in
            var configuration = ChatMemoryConfiguration()
            configuration.maxMessages = 100
            configuration.timeToLive = .seconds(3600)
            let chat = try RedisChatMemory(client: client, configuration: configuration).session("full")
            let stored = ChatMessage(id: "m1", role: .user, content: "stored")
            let newest = ChatMessage(id: "m2", role: .assistant, content: "also stored")
            try await chat.append(contentsOf: [stored, newest])
            #expect(try await client.send("CONFIG", "SET", "maxmemory", "1") == .status("OK"))
            let refused = [
                { _ = try await chat.append(ChatMessage(id: "m3", role: .user, content: "no room")) },
                { _ = try await chat.replace(after: "m1", ifNewestIs: newest, with: [ChatMessage(id: "m3", role: .user, content: "no room")]) },
            ] as [@Sendable () async throws -> Void]
            for attempt in refused {
                let error = await #expect(throws: RedisError.self) { try await attempt() }
                #expect(error?.code == .server(.outOfMemory))
            }
            #expect(try await chat.append(stored).appended == 0)
            try await client.send("CONFIG", "SET", "maxmemory", "0")
            #expect(try await chat.all().map(\.id) == ["m1", "m2"])
        }
    }

    /// Runs `body` with a client of a private server started with `arguments`; stops both.
    private func withPrivateClient(_ arguments: [String], _ body: (RedisClient) async throws -> Void) async throws {
        let server = try await PrivateRedisServer.start(arguments)
        do {
            var configuration = RedisConfiguration(endpoint: .unixSocket(path: server.socket))
            configuration.commandTimeout = .seconds(60)
            let client = RedisClient(configuration: configuration)
            do {
                try await body(client)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
