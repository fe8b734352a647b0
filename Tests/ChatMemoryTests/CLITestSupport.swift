import ChatMemory
import Foundation
import Redis
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

    /// Starts the CLI without waiting for it.
    func start(_ arguments: [String], stdin: Data? = nil, environment: [String: String?] = [:]) throws -> CLIRunningProcess {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-memory-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let stdoutURL = folder.appendingPathComponent("stdout")
        let stderrURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment
        variables["REDIS_URL"] = redisURL
        variables["TZ"] = "UTC"
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
        if let stdin {
            let stdinURL = folder.appendingPathComponent("stdin")
            try stdin.write(to: stdinURL)
            process.standardInput = try FileHandle(forReadingFrom: stdinURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        return try CLIRunningProcess(process: process, folder: folder, arguments: arguments)
    }

    /// A direct client for setting up and cleaning keys; shut it down after use.
    func client() throws -> RedisClient {
        RedisClient(configuration: try RedisConfiguration(url: redisURL))
    }
}

/// A started CLI process; `finish()` waits for it without blocking a thread.
final class CLIRunningProcess: @unchecked Sendable {
    private let process: Process
    private let folder: URL
    let arguments: [String]
    private let lock = NSLock()
    private var status: Int32?
    private var waiter: CheckedContinuation<Int32, Never>?

    fileprivate init(process: Process, folder: URL, arguments: [String]) throws {
        self.process = process
        self.folder = folder
        self.arguments = arguments
        process.terminationHandler = { [weak self] finished in self?.terminated(finished.terminationStatus) }
        try process.run()
    }

    private func terminated(_ code: Int32) {
        lock.lock()
        status = code
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: code)
    }

    func finish() async throws -> CLIResult {
        let code: Int32 = await withCheckedContinuation { continuation in
            lock.lock()
            if let status {
                lock.unlock()
                continuation.resume(returning: status)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
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
func withCLICleanup(_ cli: CLIHarness, deleting keys: [String], _ body: (RedisClient) async throws -> Void) async throws {
    let client = try cli.client()
    do {
        try await body(client)
    } catch {
        _ = try? await client.send(RedisCommand("DEL", keys.map { $0 as any RedisArgument }))
        await client.shutdown()
        throw error
    }
    _ = try await client.send(RedisCommand("DEL", keys.map { $0 as any RedisArgument }))
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
