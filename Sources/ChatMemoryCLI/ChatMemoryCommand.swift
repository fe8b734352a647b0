import ArgumentParser

/// `chat-memory` (the entry point): inspect and edit the chat sessions that RedisChatMemory keeps in Redis.
///
/// ```sh
/// export REDIS_URL=redis://127.0.0.1:6379
/// chat-memory append user-42 --role user --content "Hello"
/// chat-memory show user-42
/// chat-memory window user-42 --tokens 3000 --reserve 200 --json
/// chat-memory export user-42 > user-42.jsonl
/// chat-memory import user-43 --file user-42.jsonl
/// ```
@main
struct ChatMemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-memory",
        abstract: "Inspect and edit chat sessions stored in Redis by RedisChatMemory.",
        discussion: """
            The server comes from --url or the REDIS_URL environment variable \
            (redis://[user[:password]@]host[:port][/db] or unix:///path/to/socket[?db=N]; \
            default redis://127.0.0.1:6379). Session <id> lives in the Redis list <prefix><id> \
            (prefix "chat:" unless --prefix is given).

            A session id is given as text: any UTF-8 (spaces, newlines, '{', '*', emoji...) \
            of 1 to 512 bytes works and is used byte for byte.

            Every command that prints data takes --json. Errors are one line on standard error, \
            "chat-memory: error: ...", and the exit code says what kind: 1 runtime (Redis \
            unreachable, a key of the wrong type, ...), 64 usage (bad option, URL, session id, \
            token budget), 65 bad input data (an import line that is not a message).
            """,
        subcommands: [
            SessionsCommand.self, ShowCommand.self, WindowCommand.self, AppendCommand.self,
            CountCommand.self, ClearCommand.self, ExportCommand.self, ImportCommand.self,
            StatsCommand.self,
        ]
    )
}
