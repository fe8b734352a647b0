import ArgumentParser
import ChatMemory
import Foundation

/// `chat-memory stats [<session>]`: counts, tokens, roles, TTL.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise one session, or all sessions when none is given.",
        discussion: """
            Reports messages, entries that are not chat messages (skipped), total tokens (the \
            stored per-message counts; sums stop at 9223372036854775807 instead of overflowing), \
            messages per role, the time to live and the oldest and newest message times. Without \
            a session it reads every session.
            """)

    @Argument(help: ArgumentHelp(
        "The session id (UTF-8 text of 1 to 512 bytes; with --hex its bytes in hex); omit it for all sessions.",
        valueName: "session"))
    var session: String?

    @Flag(name: .long, help: "Read <session> as the id's bytes in hex, as `sessions` shows them.")
    var hex = false

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    /// The figures of one session.
    struct SessionStats: Encodable {
        var session: SessionJSON
        var messages = 0
        var skippedEntries = 0
        var tokens = 0
        var roles: [String: Int] = Dictionary(uniqueKeysWithValues: ChatMessage.Role.allCases.map { ($0.rawValue, 0) })
        var ttlMilliseconds: Int?
        var oldest: Int64?
        var newest: Int64?

        enum CodingKeys: String, CodingKey {
            case session, messages, tokens, roles, oldest, newest
            case skippedEntries = "skipped_entries"
            case ttlMilliseconds = "ttl_ms"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(session, forKey: .session)
            try c.encode(messages, forKey: .messages)
            try c.encode(skippedEntries, forKey: .skippedEntries)
            try c.encode(tokens, forKey: .tokens)
            try c.encode(roles, forKey: .roles)
            try c.encode(ttlMilliseconds, forKey: .ttlMilliseconds)   // null: never expires
            try c.encode(oldest, forKey: .oldest)
            try c.encode(newest, forKey: .newest)
        }
    }

    /// The figures of all sessions together.
    struct Summary: Encodable {
        var sessions = 0
        var messages = 0
        var skippedEntries = 0
        var tokens = 0
        var roles: [String: Int] = Dictionary(uniqueKeysWithValues: ChatMessage.Role.allCases.map { ($0.rawValue, 0) })
        var expiring = 0
        var largest: [SessionStats] = []

        enum CodingKeys: String, CodingKey {
            case sessions, messages, tokens, roles, expiring, largest
            case skippedEntries = "skipped_entries"
        }
    }

    func validate() throws {
        guard let session else {
            if hex { throw ValidationError("--hex needs a <session>") }
            return
        }
        do { _ = try SessionID.parse(session, hex: hex) } catch { throw ValidationError(error.message) }
    }

    func run() async throws {
        let id = try session.map { (text) throws(CLIError) in try SessionID.parse(text, hex: hex) }
        try await connection.run { connection in
            if let id {
                let stats = try await Self.stats(of: connection.memory.session(id))
                if output.json { try printJSON(stats) } else { try printLine(Self.readable(stats)) }
                return
            }
            var summary = Summary()
            var all: [SessionStats] = []
            for try await id in connection.memory.sessions() {
                let stats = try await Self.stats(of: connection.memory.session(id))
                summary.sessions += 1
                summary.messages = summary.messages.addingClamped(stats.messages)
                summary.skippedEntries = summary.skippedEntries.addingClamped(stats.skippedEntries)
                summary.tokens = summary.tokens.addingClamped(stats.tokens)
                for (role, count) in stats.roles { summary.roles[role] = summary.roles[role, default: 0].addingClamped(count) }
                if stats.ttlMilliseconds != nil { summary.expiring += 1 }
                all.append(stats)
            }
            summary.largest = Array(all.sorted { ($0.messages, $1.session.id) > ($1.messages, $0.session.id) }.prefix(5))
            if output.json { try printJSON(summary); return }
            var lines = [
                "sessions:        \(summary.sessions) (\(summary.expiring) with a time to live)",
                "messages:        \(summary.messages)",
                "tokens:          \(summary.tokens)",
                "roles:           \(Self.roles(summary.roles))",
                "skipped entries: \(summary.skippedEntries) (not chat messages)",
            ]
            if !summary.largest.isEmpty {
                lines.append("largest:")
                lines += summary.largest.map { "  \(printable($0.session.id)): \($0.messages) messages, \($0.tokens) tokens" }
            }
            try printLine(lines.joined(separator: "\n"))
        }
    }

    private static func stats(of chat: ChatSession) async throws -> SessionStats {
        let (messages, skipped) = try await chat.inspect()
        var stats = SessionStats(session: SessionJSON(chat.id))
        stats.messages = messages.count
        stats.skippedEntries = skipped
        for item in messages {
            stats.tokens = stats.tokens.addingClamped(max(0, item.tokens))
            stats.roles[item.message.role.rawValue, default: 0] += 1
        }
        let times = messages.map(\.message.createdAt.unixMilliseconds)
        stats.oldest = times.min()
        stats.newest = times.max()
        stats.ttlMilliseconds = try await chat.timeToLive()?.milliseconds
        return stats
    }

    private static func roles(_ roles: [String: Int]) -> String {
        ChatMessage.Role.allCases.map { "\($0.rawValue) \(roles[$0.rawValue] ?? 0)" }.joined(separator: ", ")
    }

    private static func readable(_ stats: SessionStats) -> String {
        let formatter = Readable.dateFormatter()
        func time(_ ms: Int64?) -> String {
            ms.map { formatter.string(from: Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "-"
        }
        return [
            "session:         \(printable(stats.session.id))",
            "messages:        \(stats.messages)",
            "skipped entries: \(stats.skippedEntries) (not chat messages)",
            "tokens:          \(stats.tokens)",
            "roles:           \(roles(stats.roles))",
            "time to live:    \(Readable.duration(stats.ttlMilliseconds.map { .milliseconds($0) }))",
            "oldest:          \(time(stats.oldest))",
            "newest:          \(time(stats.newest))",
        ].joined(separator: "\n")
    }
}
