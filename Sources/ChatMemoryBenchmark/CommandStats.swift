import ChatMemoryRedis

/// One command's line of `INFO commandstats`: how many calls the server ran since the last
/// `CONFIG RESETSTAT` and the microseconds it spent in them (a script's time holds the commands
/// it runs).
struct CommandStats {
    var calls = 0
    var usec = 0

    /// The server's `usec_per_call`, unrounded; 0 without calls.
    var usecPerCall: Double { calls > 0 ? Double(usec) / Double(calls) : 0 }

    /// Every command's figures, by the lowercase name `INFO` gives it (`evalsha`, `rpush`,
    /// `config|resetstat`).
    static func read(_ client: RedisClient) async throws -> [String: CommandStats] {
        let info = try await client.send("INFO", "commandstats").string ?? ""
        var stats: [String: CommandStats] = [:]
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            var fields: [Substring: Substring] = [:]
            for field in line[line.index(after: colon)...].split(separator: ",") {
                let parts = field.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            stats[String(line[..<colon].dropFirst("cmdstat_".count))] =
                CommandStats(calls: fields["calls"].flatMap { Int($0) } ?? 0, usec: fields["usec"].flatMap { Int($0) } ?? 0)
        }
        return stats
    }

    /// Resets the server's statistics, runs `body`, and returns what the server spent in each of
    /// `commands` meanwhile.
    static func during(_ client: RedisClient, of commands: [String],
                       _ body: () async throws -> Void) async throws -> [CommandStats] {
        try await client.send("CONFIG", "RESETSTAT")
        try await body()
        let stats = try await read(client)
        return commands.map { stats[$0] ?? CommandStats() }
    }
}
