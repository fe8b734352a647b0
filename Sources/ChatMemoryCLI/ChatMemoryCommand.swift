import ArgumentParser
import ChatMemory
import Foundation
import ChatMemoryRedis

/// `chat-memory` (the entry point): inspect and edit the chat sessions that RedisChatMemory keeps in Redis.
///
/// ```sh
/// export REDIS_URL=redis://127.0.0.1:6379
/// chat-memory append user-42 --role user --content "Hello"
/// chat-memory show user-42
/// chat-memory window user-42 --tokens 3000 --reserve 200 --json
/// chat-memory export user-42 > user-42.jsonl
/// chat-memory import user-43 --file user-42.jsonl
/// chat-memory append chat-7 --owner user-42 --role user --content "Hello"
/// chat-memory conversations user-42
/// ```
@main
struct ChatMemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-memory",
        abstract: "Inspect and edit chat sessions stored in Redis by RedisChatMemory.",
        discussion: """
            The server comes from --url or the REDIS_URL environment variable \
            (redis://[user[:password]@]host[:port][/db] or unix:///path/to/socket[?db=N]; \
            default redis://127.0.0.1:6379). Keep the password off the command line, where any \
            user sees it with ps: set REDIS_PASSWORD or REDIS_PASSWORD_FILE (and REDIS_USERNAME \
            for an ACL user), or use --password-file. Session <id> lives in the Redis list <prefix><id> (prefix "chat:" \
            unless --prefix is given).

            A session id is given as UTF-8 text of 1 to 512 bytes, used byte for byte (spaces, \
            newlines, '{', '*', emoji...), or with --hex as its bytes in hex, for any bytes \
            (61ff0062 is a, 0xFF, NUL, b). An argument that is not valid UTF-8 is refused, never \
            replaced by a different id. `sessions` shows the --hex form of every id that cannot be \
            typed back as text.

            Every command that prints data takes --json. Errors are one line on standard error, \
            "chat-memory: error: ...", and the exit code says what kind: 1 runtime (Redis \
            unreachable, a key of the wrong type, ...), 64 usage (bad option or number, URL, \
            session id, token budget), 65 bad input data (an import line that is not a message). \
            When the reader of standard output goes away (`chat-memory show s | head -1`), the \
            command stops quietly with status 0.
            """,
        subcommands: [
            SessionsCommand.self, ShowCommand.self, WindowCommand.self, AppendCommand.self,
            CountCommand.self, ClearCommand.self, ExportCommand.self, ImportCommand.self,
            StatsCommand.self, CompactCommand.self, TranscriptCommand.self, TruncateCommand.self,
            ConversationsCommand.self, TitleCommand.self, EraseOwnerCommand.self,
        ]
    )

    /// Parses and runs a command; every error ends as one line on standard error and its exit code.
    static func main() async {
        Streams.prepare()
        let status: Int32
        do {
            try RawArguments.requireUTF8()
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            status = 0
        } catch {
            status = finish(error)
        }
        Foundation.exit(status)
    }

    /// Reports `error` and returns the exit status.
    private static func finish(_ error: any Error) -> Int32 {
        switch error {
        case is StandardOutputClosed:
            return 0
        case let code as ExitCode:
            return code.rawValue
        case is CLIError, is ChatMemoryError, is RedisError:
            let failure = CLIError(error)
            printError("chat-memory: error: \(oneLine(failure.message))\n")
            return failure.exitCode.rawValue
        default:
            // ArgumentParser's own outcomes: help (status 0, on standard output) and usage errors.
            let code = exitCode(for: error)
            if code == .success {
                do { try Streams.writeOutput((fullMessage(for: error) + "\n").utf8) } catch { return finish(error) }
                return 0
            }
            let message = oneLine(message(for: error))
            printError("chat-memory: error: \(message.isEmpty ? "invalid arguments (see chat-memory --help)" : message)\n")
            return code.rawValue
        }
    }

    /// Lines joined by spaces, so an error stays one line.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
