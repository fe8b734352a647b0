import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// Runs the `chat-memory` binary named by CHAT_MEMORY_BIN against the server in REDIS_URL.
/// A missing variable fails the test (it never skips): run the tests with Scripts/test.sh.
struct CLIHarness: Sendable {
    let binary: String
    let redisURL: String

    init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let binary = environment["CHAT_MEMORY_BIN"], !binary.isEmpty else {
            throw CLIHarnessMissing("CHAT_MEMORY_BIN is not set: build the chat-memory product and point it at the binary (Scripts/test.sh does)")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CLIHarnessMissing("CHAT_MEMORY_BIN=\(binary) is not an executable file")
        }
        guard let url = environment["REDIS_URL"], !url.isEmpty else {
            throw CLIHarnessMissing("REDIS_URL is not set: run the tests with Scripts/test.sh, which starts a redis-server")
        }
        self.binary = binary
        self.redisURL = url
    }

    /// Runs the CLI to completion. `environment` overrides (nil removes) variables; REDIS_URL
    /// and TZ=UTC are set unless overridden.
    func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String?] = [:]) async throws -> CLIResult {
        try await start(arguments, stdin: stdin, environment: environment).finish()
    }

    /// Runs a bash `script` in which `"$CLI"` is the binary and "$@" are `arguments` (for pipes,
    /// and for arguments that are not UTF-8, written in the script as $'\xff').
    func runShell(_ script: String, arguments: [String] = [], environment: [String: String?] = [:]) async throws -> CLIResult {
        var variables = environment
        variables["CLI"] = binary
        return try await start(["-c", script, "bash"] + arguments, executable: "/bin/bash", environment: variables).finish()
    }

    /// Starts the CLI (or `executable`) without waiting for it.
    func start(_ arguments: [String], stdin: Data? = nil, executable: String? = nil, environment: [String: String?] = [:]) throws -> CLIRunningProcess {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-memory-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var variables = ProcessInfo.processInfo.environment
        variables["REDIS_URL"] = redisURL
        variables["TZ"] = "UTC"
        for (name, value) in environment { variables[name] = value }
        var stdinPath: String?
        if let stdin {
            let stdinURL = folder.appendingPathComponent("stdin")
            try stdin.write(to: stdinURL)
            stdinPath = stdinURL.path
        }
        let child = try CLIChildProcess(
            [executable ?? binary] + arguments, environment: variables, stdin: stdinPath,
            stdout: folder.appendingPathComponent("stdout").path, stderr: folder.appendingPathComponent("stderr").path)
        return CLIRunningProcess(child: child, folder: folder, arguments: arguments)
    }

    /// A direct client for setting up and cleaning keys; shut it down after use.
    func client() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: redisURL))
    }
}

/// A started CLI process; `finish()` waits for it without blocking a thread.
struct CLIRunningProcess: Sendable {
    let child: CLIChildProcess
    let folder: URL
    let arguments: [String]

    func finish() async throws -> CLIResult {
        let code = await child.exitStatus()
        defer { try? FileManager.default.removeItem(at: folder) }
        return CLIResult(
            arguments: arguments, status: code,
            stdout: try Data(contentsOf: folder.appendingPathComponent("stdout")),
            stderr: try Data(contentsOf: folder.appendingPathComponent("stderr")))
    }
}

/// What one run of the CLI did.
struct CLIResult: Sendable, CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let stdout: Data
    let stderr: Data

    var output: String { String(decoding: stdout, as: UTF8.self) }
    var errorOutput: String { String(decoding: stderr, as: UTF8.self) }

    var description: String { "chat-memory \(arguments) exited \(status); stderr: \(errorOutput)" }

    /// Fails the test unless the run succeeded; returns self for chaining.
    @discardableResult
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) -> CLIResult {
        #expect(status == 0, "\(self)", sourceLocation: sourceLocation)
        return self
    }

    /// The standard output as a JSON object.
    func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: stdout) as? [String: Any] else {
            throw CLIHarnessMissing("not a JSON object: \(output)")
        }
        return object
    }
}

struct CLIHarnessMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A random session id with spaces and non-ASCII text, unique per test.
func cliSessionID(_ label: String) -> String {
    "cli-test \(label) ü/{*} \(UUID().uuidString)"
}

/// Runs `body` with a direct client, then deletes `keys` and shuts the client down, also when
/// `body` throws.
func withCLICleanup(_ cli: CLIHarness, deleting keys: [any RedisArgument], _ body: (RedisClient) async throws -> Void) async throws {
    let client = try cli.client()
    do {
        try await body(client)
    } catch {
        if !keys.isEmpty { _ = try? await client.send(RedisCommand("DEL", keys)) }
        await client.shutdown()
        throw error
    }
    if !keys.isEmpty { _ = try await client.send(RedisCommand("DEL", keys)) }
    await client.shutdown()
}

/// JSON Lines of `messages`, as `export` writes them.
func cliJSONLines(_ messages: [ChatMessage]) throws -> Data {
    var data = Data()
    for message in messages {
        data.append(try message.jsonData())
        data.append(UInt8(ascii: "\n"))
    }
    return data
}

/// A redis-server of the test's own (for settings such as a password that would disturb other
/// tests): a unix socket in its own folder and a free loopback port, no persistence.
struct PrivateRedisServer: Sendable {
    let socket: String
    let port: Int
    private let child: CLIChildProcess
    private let folder: URL

    /// Starts a server with `arguments` added (e.g. `--requirepass`), trying other ports while
    /// the chosen one is taken.
    static func start(_ arguments: [String]) async throws -> PrivateRedisServer {
        for _ in 0..<20 {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cli-redis-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let socket = folder.appendingPathComponent("redis.sock").path
            let port = Int.random(in: 20_000...60_000)
            let child = try CLIChildProcess(
                ["redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--dir", folder.path,
                 "--unixsocket", socket, "--unixsocketperm", "700", "--save", "", "--appendonly", "no"] + arguments,
                environment: ProcessInfo.processInfo.environment, stdin: nil,
                stdout: folder.appendingPathComponent("redis.log").path, stderr: "/dev/null")
            // The socket is created after the TCP port is bound; a taken port ends the server.
            // The file exists from bind(), before listen(): ready once a connection is answered
            // (a refused one was once taken for a server that was not there).
            while !child.hasExited, !(FileManager.default.fileExists(atPath: socket) ? await answers(at: socket) : false) {
                try await Task.sleep(for: .milliseconds(20))
            }
            if !child.hasExited { return PrivateRedisServer(socket: socket, port: port, child: child, folder: folder) }
            try? FileManager.default.removeItem(at: folder)
        }
        throw CLIHarnessMissing("could not start a private redis-server")
    }

    /// Whether a server answers on `socket`: a reply, or a server's error (`NOAUTH` when it
    /// needs a password); a refused connection is not an answer.
    private static func answers(at socket: String) async -> Bool {
        var configuration = RedisConfiguration(endpoint: .unixSocket(path: socket))
        configuration.pool.size = 1
        let client = RedisClient(configuration: configuration)
        let answered: Bool
        do {
            _ = try await client.send("PING")
            answered = true
        } catch let error as RedisError {
            answered = error.code.serverErrorKind != nil
        } catch {
            answered = false
        }
        await client.shutdown()
        return answered
    }

    /// Stops the server (SIGTERM), waits for it and removes its folder.
    func stop() async {
        child.send(SIGTERM)
        _ = await child.exitStatus()
        try? FileManager.default.removeItem(at: folder)
    }
}
