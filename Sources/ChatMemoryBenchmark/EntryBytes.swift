import ChatMemory
import ChatMemoryRedis
import Foundation

/// `entry-bytes --texts FILE` for Scripts/bench-cost.sh: Redis memory per message as this library
/// stores them. Appends every line of FILE (JSON Lines `{"role": "user"|"assistant"|...,
/// "content": ...}`, as Scripts/lib/entry-bytes.py writes them) as one message, one append at a
/// time, with `memory`'s configuration, to a new session; then asks the server for
/// `MEMORY USAGE key SAMPLES 0` of the session's list and of the other keys an append writes
/// (the id index), and removes the session.
///
/// Prints `entry-bytes,ours,messages,text_bytes,session_bytes,bytes_per_message,mean_entry_bytes,
/// key,other_keys_bytes`: bytes per message is the session list's usage over its length.
func measureEntryBytes(client: RedisClient, memory: RedisChatMemory) async throws {
    guard let at = arguments.firstIndex(of: "--texts"), arguments.indices.contains(at + 1) else {
        throw BenchmarkFailure("usage: ChatMemoryBenchmark entry-bytes --texts FILE")
    }
    let turns = try readTurns(arguments[at + 1])
    let chat = memory.session(try SessionID("bench:entry-bytes:\(UInt32.random(in: 0...UInt32.max))"))
    try await chat.clear()
    for turn in turns { try await chat.append(turn) }

    let entries = (try await client.send("LRANGE", chat.key, 0, -1).array ?? []).compactMap(\.bytes)
    guard entries.count == turns.count else {
        throw BenchmarkFailure("entry-bytes: the session holds \(entries.count) entries after \(turns.count) appends")
    }
    let keys = RedisChatMemory.appendScriptKeys(sessionKey: String(decoding: chat.key, as: UTF8.self))
    var usage: [Int] = []
    for key in keys { usage.append(try await client.send("MEMORY", "USAGE", key, "SAMPLES", 0).int ?? 0) }
    try await chat.clear()

    let textBytes = turns.reduce(0) { $0 + ($1.content?.utf8.count ?? 0) }
    let meanEntry = Double(entries.reduce(0) { $0 + $1.count }) / Double(max(1, entries.count))
    let session = usage.first ?? 0
    print(String(format: "entry-bytes,ours,%d,%d,%d,%.1f,%.1f,%@,%d", entries.count, textBytes, session,
                 Double(session) / Double(max(1, entries.count)), meanEntry, keys.first ?? "", usage.dropFirst().reduce(0, +)))
}

/// The messages of a JSON Lines file of `{"role": ..., "content": ...}` objects, in order.
private func readTurns(_ path: String) throws -> [ChatMessage] {
    struct Turn: Decodable {
        let role: String
        let content: String
    }
    let decoder = JSONDecoder()
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").enumerated().map { number, line in
        let turn = try decoder.decode(Turn.self, from: Data(line.utf8))
        guard let role = ChatMessage.Role(rawValue: turn.role) else {
            throw BenchmarkFailure("entry-bytes: line \(number + 1) of \(path) has the unknown role \(turn.role)")
        }
        return ChatMessage(role: role, content: turn.content)
    }
}
