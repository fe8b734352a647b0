import Foundation
import ChatMemoryRedis
import Testing

/// A redis-server of one test's own, for tests that stall, break or kill a server (so the shared
/// server stays untouched): it listens on a free loopback port and a Unix socket in a temporary
/// folder, with no persistence. `redis-server` must be on PATH; a missing one is a failure.
final class PrivateRedisServer: @unchecked Sendable {
    let port: Int
    let socketPath: String
    private let folder: URL
    private let process: Process

    private init(port: Int, folder: URL, process: Process) {
        self.port = port
        self.folder = folder
        self.socketPath = folder.appendingPathComponent("redis.sock").path
        self.process = process
    }

    /// Starts a server and waits until it answers PING. `port` picks the port (default: a free
    /// one); `arguments` go to redis-server.
    static func start(port: Int? = nil, arguments: [String] = []) async throws -> PrivateRedisServer {
        // A free port can be taken by someone else before redis-server binds it: try a few (a
        // given port may be held for a moment, e.g. by a client's connect that the kernel gave
        // that same local port: wait a little and try it again).
        var log = ""
        for attempt in 0..<5 {
            if attempt > 0, port != nil { try await Task.sleep(for: .milliseconds(200)) }
            let server = try launch(port: try port ?? freeLoopbackPort(), arguments: arguments)
            if await server.waitUntilReady() { return server }
            log = (try? String(contentsOf: server.folder.appendingPathComponent("redis.log"), encoding: .utf8)) ?? "(no log)"
            await server.stop()
        }
        throw PrivateServerFailure("redis-server (on PATH) did not start; its log ends with: \(log.suffix(500))")
    }

    private static func launch(port: Int, arguments: [String]) throws -> PrivateRedisServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-private-redis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--dir", folder.path,
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--logfile", folder.appendingPathComponent("redis.log").path,
            "--unixsocket", folder.appendingPathComponent("redis.sock").path, "--unixsocketperm", "700",
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return PrivateRedisServer(port: port, folder: folder, process: process)
    }

    /// A configuration for this server over TCP. Its timeouts only turn a hang into a failure:
    /// tests run in parallel on 2 shared cores, 10x slower under the thread sanitizer, and a
    /// credentials provider needs a cooperative thread within the connect timeout.
    func configuration() -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(60)
        return configuration
    }

    /// A configuration for this server over its Unix socket, with the same timeouts.
    func unixConfiguration() -> RedisConfiguration {
        var configuration = RedisConfiguration(endpoint: .unixSocket(path: socketPath))
        configuration.commandTimeout = .seconds(60)
        configuration.connectTimeout = .seconds(60)
        return configuration
    }

    /// Stops the server process (SIGSTOP): connections stay open and nothing is answered.
    func suspend() { kill(process.processIdentifier, SIGSTOP) }

    /// Lets a suspended server go on (SIGCONT).
    func resume() { kill(process.processIdentifier, SIGCONT) }

    /// Kills the server (SIGKILL), waits for it to exit and removes its folder.
    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            // Only a guard against hanging: a killed process is reaped at once.
            for _ in 0..<3_000 where process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// True once the server answers PING; false if the process exited (its port was taken).
    private func waitUntilReady() async -> Bool {
        var configuration = configuration()
        configuration.pool.size = 1
        configuration.pool.initialBackoff = .zero
        configuration.pool.maxBackoff = .zero
        let client = RedisClient(configuration: configuration)
        var ready = false
        // Polls until the server is up; the bound only guards against a hang (30 s).
        for _ in 0..<1_500 where process.isRunning {
            if (try? await client.send("PING"))?.string == "PONG" {
                ready = true
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        await client.shutdown()
        return ready
    }
}

/// Runs `body` with a private server and always stops it.
@discardableResult
func withPrivateServer<R>(port: Int? = nil, arguments: [String] = [], _ body: (PrivateRedisServer) async throws -> R) async throws -> R {
    let server = try await PrivateRedisServer.start(port: port, arguments: arguments)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

struct PrivateServerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A loopback port held bound but not listening, so a connect to it is refused and no other
/// process (a server another test starts in parallel) can take it until ``release()``.
final class RefusingPort: @unchecked Sendable {
    let port: Int
    private var fd: Int32

    init() throws {
        (fd, port) = try boundLoopbackSocket()
    }

    /// Frees the port (for a test that then starts a server on it).
    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}

/// A loopback port nobody listens on (the kernel picks it; it is free when this returns).
func freeLoopbackPort() throws -> Int {
    let (fd, port) = try boundLoopbackSocket()
    close(fd)
    return port
}

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks, not listening, and that port.
private func boundLoopbackSocket() throws -> (Int32, Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw PrivateServerFailure("socket() failed") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
            guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else {
                close(fd)
                throw PrivateServerFailure("cannot bind a loopback port")
            }
        }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}
