import ChatMemory
import ChatMemoryRedis

/// `batch -n N`: the server time of one N-message append (~300 bytes each), of its retry, and of a
/// plain `LPUSH` of the same entries; prints `batch,N,append_us,retry_us,lpush_us`.
func measureBatch(client: RedisClient, memory: RedisChatMemory) async throws {
    let size = max(1, option("-n", 10_000))
    let chat = memory.session("bench:batch")
    try await chat.clear()
    let turns = (0..<size).map { ChatMessage(role: .user, content: "\($0): " + turnText) }
    /// Microseconds of server time spent in `command` by `body`, from INFO commandstats.
    func serverTime(of command: String, _ body: () async throws -> Void) async throws -> Int {
        func usec() async throws -> Int {
            let info = try await client.send("INFO", "commandstats").string ?? ""
            guard let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("cmdstat_\(command):") }),
                  let field = line.split(separator: ",").first(where: { $0.hasPrefix("usec=") }) else { return 0 }
            return Int(field.dropFirst(5)) ?? 0
        }
        let before = try await usec()
        try await body()
        return try await usec() - before
    }
    let append = try await serverTime(of: "evalsha") { try await chat.append(contentsOf: turns) }
    let retry = try await serverTime(of: "evalsha") { try await chat.append(contentsOf: turns) }
    let entries: [any RedisArgument] = (try await client.send("LRANGE", chat.key, 0, -1).array ?? []).reversed().compactMap(\.bytes)
    let plainKey = "bench:batch:plain"
    _ = try await client.send("DEL", plainKey)
    let lpush = try await serverTime(of: "lpush") { _ = try await client.send(RedisCommand("LPUSH", [plainKey] + entries)) }
    _ = try await client.send("DEL", plainKey)
    print("batch,\(size),\(append),\(retry),\(lpush)")
    try await chat.clear()
}
