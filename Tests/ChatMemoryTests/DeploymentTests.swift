import ChatMemory
import Foundation
import ChatMemoryRedis
import Testing

/// The `chat-memory` binary deployed the way a server binary often is: copied alone into a
/// folder, with or without the tokenizer's resource bundle. A missing or damaged rank file must
/// never stop the process: the default counter falls back to approximate counts with one warning.
@Suite("deployment without the tokenizer bundle")
struct DeploymentTests {
    static let bundleName = "RedisChatMemory_ChatTokenizer.resources"
    static let warning = "exact token counting is unavailable"

    /// A temporary folder holding a copy of the CLI binary (and what `prepare` adds), removed
    /// after `body`.
    static func withDeployment(
        _ prepare: (_ folder: URL, _ builtBundle: URL) throws -> Void = { _, _ in },
        _ body: (_ binary: URL, _ builtBundle: URL, _ cli: CLIHarness) async throws -> Void
    ) async throws {
        let cli = try CLIHarness()
        let built = URL(fileURLWithPath: cli.binary).resolvingSymlinksInPath()
        let builtBundle = built.deletingLastPathComponent().appendingPathComponent(bundleName)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deployed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let binary = folder.appendingPathComponent("chat-memory")
        try copyExecutable(built, to: binary)
        try prepare(folder, builtBundle)
        try await body(binary, builtBundle, cli)
    }

    struct Run: CustomStringConvertible {
        let status: Int32
        let reason: Process.TerminationReason
        let stdout: String
        let stderr: String

        var exited: Bool { reason == .exit }
        var warnings: Int { stderr.components(separatedBy: DeploymentTests.warning).count - 1 }
        var description: String { "exit \(status) (\(reason == .exit ? "exit" : "signal")), stdout: \(stdout), stderr: \(stderr)" }
    }

    /// Runs `binary` to completion with REDIS_URL set and CHAT_TOKENIZER_RESOURCES as given
    /// (unset when nil).
    static func run(_ binary: URL, _ arguments: [String], resources: String?, cli: CLIHarness) async throws -> Run {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("deployed-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: output) }
        let stdoutURL = output.appendingPathComponent("stdout")
        let stderrURL = output.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let finished = AsyncStream<Void>.makeStream()
        func launch() throws -> Process {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment["REDIS_URL"] = cli.redisURL
            environment["CHAT_TOKENIZER_RESOURCES"] = resources
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            process.terminationHandler = { _ in finished.continuation.finish() }
            try process.run()
            return process
        }
        // The copied binary's write descriptor can live on for a moment in a child that another
        // test, running in parallel, forked meanwhile: exec then fails with ETXTBSY. Try again.
        var process: Process?
        for attempt in 1... {
            do {
                process = try launch()
                break
            } catch let error as NSError where attempt < 100 && Self.isTextFileBusy(error) {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let process else { throw CocoaError(.fileReadUnknown) }
        for await _ in finished.stream {}
        return Run(
            status: process.terminationStatus, reason: process.terminationReason,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    /// Copies the binary through a descriptor closed on exec. `FileManager.copyItem` leaves its
    /// write descriptor inheritable: a process another test spawned meanwhile kept it open as
    /// long as it ran, and every exec of the copy failed with ETXTBSY until then (longer than the
    /// 5 s of retries below, once in a full run). Now a child holds it at most until its exec.
    static func copyExecutable(_ source: URL, to destination: URL) throws {
        let contents = try Data(contentsOf: source)
        let descriptor = open(destination.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o755)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        try contents.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                offset += written
            }
        }
    }

    static func isTextFileBusy(_ error: NSError) -> Bool {
        (error.userInfo[NSUnderlyingErrorKey] as? NSError).map { $0.domain == NSPOSIXErrorDomain && $0.code == Int(ETXTBSY) } ?? false
    }

    /// The raw entries of a session, newest first.
    static func entries(_ session: String, _ client: RedisClient) async throws -> [String] {
        try await client.send("LRANGE", "chat:" + session, 0, -1).array?.compactMap(\.string) ?? []
    }

    @Test func withoutTheBundleMessagesAreStoredWithApproximateCountsAndOneWarning() async throws {
        try await Self.withDeployment { binary, _, cli in
            let session = "deployment \(UUID().uuidString)"
            try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
                let append = try await Self.run(binary, ["append", session, "--role", "user", "--content", "hello"], resources: nil, cli: cli)
                #expect(append.exited && append.status == 0, "\(append)")
                #expect(append.warnings == 1, "\(append)")
                #expect(append.stderr.contains(Self.bundleName) && append.stderr.contains("CHAT_TOKENIZER_RESOURCES"), "\(append)")

                // Many counts in one process (three messages, each role and content): still one warning.
                let lines = try cliJSONLines([.user("one"), .assistant("two"), .user("three")])
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("deployment-\(UUID().uuidString).jsonl")
                try lines.write(to: file)
                defer { try? FileManager.default.removeItem(at: file) }
                let imported = try await Self.run(binary, ["import", session, "--file", file.path], resources: nil, cli: cli)
                #expect(imported.exited && imported.status == 0, "\(imported)")
                #expect(imported.warnings == 1, "\(imported)")

                let count = try await Self.run(binary, ["count", session], resources: nil, cli: cli)
                #expect(count.exited && count.status == 0 && count.stdout == "4\n", "\(count)")
                let entries = try await Self.entries(session, client)
                #expect(entries.count == 4)
                // The count names its counter (a bare number would be cl100k_base's).
                #expect(entries.allSatisfy { $0.contains(#",{"\#(ApproximateTokenCounter().identifier)":"#) }, "\(entries)")
            }
        }
    }

    @Test func theEnvironmentVariableFindsTheBundleForExactCounts() async throws {
        try await Self.withDeployment { binary, builtBundle, cli in
            // The bundle itself, or the folder that holds it.
            for resources in [builtBundle.path, builtBundle.deletingLastPathComponent().path] {
                let session = "deployment \(UUID().uuidString)"
                try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
                    let content = "Exact counts, please: <|endoftext|> 日本語 🙂"
                    let append = try await Self.run(binary, ["append", session, "--role", "user", "--content", content], resources: resources, cli: cli)
                    #expect(append.exited && append.status == 0 && append.stderr.isEmpty, "\(append)")
                    let entries = try await Self.entries(session, client)
                    let exact = try TiktokenCounter().count(ChatMessage.user(content))
                    #expect(entries.count == 1)
                    // A bare count is cl100k_base's.
                    #expect(entries.first?.contains(#"",\#(exact),"user","#) == true, "\(entries), expected \(exact) tokens")
                }
            }
        }
    }

    @Test func aDamagedRankFileIsAClearErrorNeverACrash() async throws {
        try await Self.withDeployment({ folder, builtBundle in
            // The bundle next to the binary, with cl100k_base cut in half.
            let bundle = folder.appendingPathComponent(Self.bundleName)
            try FileManager.default.copyItem(at: builtBundle, to: bundle)
            let file = bundle.appendingPathComponent("Resources/cl100k_base.tiktoken")
            let contents = try Data(contentsOf: file)
            try FileManager.default.removeItem(at: file)
            try contents.prefix(contents.count / 2).write(to: file)
        }) { binary, _, cli in
            let session = "deployment \(UUID().uuidString)"
            try await withCLICleanup(cli, deleting: ["chat:" + session]) { client in
                let fallback = try await Self.run(binary, ["append", session, "--role", "user", "--content", "hello"], resources: nil, cli: cli)
                #expect(fallback.exited && fallback.status == 0, "\(fallback)")
                #expect(fallback.warnings == 1 && fallback.stderr.contains("SHA-256"), "\(fallback)")

                // Asking for the encoding by name is an error, reported on one line.
                let named = try await Self.run(
                    binary, ["append", session, "--role", "user", "--content", "hello", "--encoding", "cl100k_base"], resources: nil, cli: cli)
                #expect(named.exited && named.status == 1, "\(named)")
                #expect(named.stderr.hasPrefix("chat-memory: error: ") && named.stderr.contains("SHA-256"), "\(named)")

                // o200k_base in the same bundle is intact.
                let other = try await Self.run(
                    binary, ["append", session, "--role", "user", "--content", "hello", "--encoding", "o200k_base"], resources: nil, cli: cli)
                #expect(other.exited && other.status == 0 && other.stderr.isEmpty, "\(other)")
                #expect(try await Self.entries(session, client).count == 2)
            }
        }
    }

    @Test func aVariableNamingAnEmptyFolderFallsBackAndSaysSo() async throws {
        try await Self.withDeployment { binary, builtBundle, cli in
            let session = "deployment \(UUID().uuidString)"
            let empty = binary.deletingLastPathComponent().appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            // The bundle next to the binary is not consulted when the variable is set.
            try FileManager.default.copyItem(at: builtBundle, to: binary.deletingLastPathComponent().appendingPathComponent(Self.bundleName))
            try await withCLICleanup(cli, deleting: ["chat:" + session]) { _ in
                let run = try await Self.run(binary, ["append", session, "--role", "user", "--content", "hello"], resources: empty.path, cli: cli)
                #expect(run.exited && run.status == 0, "\(run)")
                #expect(run.warnings == 1 && run.stderr.contains(empty.path), "\(run)")
            }
        }
    }
}
