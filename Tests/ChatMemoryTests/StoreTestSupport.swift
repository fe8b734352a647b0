import Foundation
import Logging
import ChatMemoryRedis
@testable import ChatMemory

/// The stores every behavioural test runs against: Redis as an admin, Redis as a
/// least-privilege ACL user holding exactly ``RedisChatMemory/aclRules(keyPrefix:)``, and
/// process memory.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case redis, leastPrivilege, embedded
    var testDescription: String { rawValue }
}

import Testing

/// A store for one test: its own key prefix, so listings see only this test's sessions.
struct StoreUnderTest: Sendable {
    let kind: StoreKind
    let memory: RedisChatMemory
    let client: RedisClient?
    let prefix: String
    /// The ACL user made for a `.leastPrivilege` store, deleted by ``cleanUp()``.
    var aclUser: String?

    static func make(_ kind: StoreKind, _ adjust: (inout ChatMemoryConfiguration) -> Void = { _ in }) async throws -> StoreUnderTest {
        var configuration = ChatMemoryConfiguration()
        configuration.keyPrefix = "test-chat-\(UUID().uuidString.prefix(8)):"
        adjust(&configuration)
        switch kind {
        case .redis:
            let client = RedisClient(configuration: try storeTestRedisConfiguration())
            return StoreUnderTest(kind: kind, memory: try RedisChatMemory(client: client, configuration: configuration),
                                  client: client, prefix: configuration.keyPrefix)
        case .leastPrivilege:
            let user = "chat-test-\(UUID().uuidString.prefix(8))"
            let password = UUID().uuidString
            var userConfiguration = try storeTestRedisConfiguration()
            userConfiguration.credentials = .init(username: user, password: password)
            // Settings refused here leave no user behind (the client connects on first use).
            let client = RedisClient(configuration: userConfiguration)
            let memory = try RedisChatMemory(client: client, configuration: configuration)
            try await storeTestAdmin(["ACL", "SETUSER", user, "on", ">" + password] + RedisChatMemory.aclRules(keyPrefix: configuration.keyPrefix))
            return StoreUnderTest(kind: kind, memory: memory, client: client, prefix: configuration.keyPrefix, aclUser: user)
        case .embedded:
            return StoreUnderTest(kind: kind, memory: try RedisChatMemory(storage: EmbeddedChatStorage(), configuration: configuration),
                                  client: nil, prefix: configuration.keyPrefix)
        }
    }

    /// Deletes every session of this test and shuts the client down.
    func cleanUp() async throws {
        for try await id in memory.sessions() { try await memory.delete(id) }
        await client?.shutdown()
        if let aclUser { try await storeTestAdmin(["ACL", "DELUSER", aclUser]) }
    }

    /// The Redis client, for tests that look at the raw keys.
    func redis() throws -> RedisClient {
        try #require(client, "only the Redis store has a client")
    }
}

/// The test server started by Scripts/test.sh (REDIS_URL), or by Scripts/test-tls.sh (a
/// rediss:// REDIS_URL with REDIS_TLS_* variables). A missing server fails the test.
func storeTestRedisConfiguration() throws -> RedisConfiguration {
    guard let url = ProcessInfo.processInfo.environment["REDIS_URL"], !url.isEmpty else {
        throw StoreTestServerMissing()
    }
    var configuration = try RedisConfiguration.fromEnvironment()
    // Generous: suites run in parallel on 2 shared cores (and 10x slower under the thread
    // sanitizer); these bounds only turn a hang into a failure.
    configuration.commandTimeout = .seconds(60)
    configuration.connectTimeout = .seconds(60)
    return configuration
}

/// Runs an admin command on the test server with `redis-cli`, waiting for it without holding a
/// thread; throws when it fails. With STORE_TEST_ADMIN_PORTS (the data nodes of a cluster or a
/// Sentinel group, on 127.0.0.1) it runs on each of them.
func storeTestAdmin(_ arguments: [String]) async throws {
    let configuration = try storeTestRedisConfiguration()
    var targets: [(host: String, port: Int)] = []
    if let ports = ProcessInfo.processInfo.environment["STORE_TEST_ADMIN_PORTS"], !ports.isEmpty {
        targets = ports.split(separator: " ").compactMap { Int($0) }.map { ("127.0.0.1", $0) }
    } else if case .tcp(let host, let port) = configuration.endpoint {
        targets = [(host, port)]
    }
    guard !targets.isEmpty else { throw StoreTestServerMissing() }
    var tlsArguments: [String] = []
    if let tls = configuration.tls {
        tlsArguments = ["--tls"] + (tls.caFile.map { ["--cacert", $0] } ?? []) + (tls.serverName.map { ["--sni", $0] } ?? [])
        if let certificate = tls.certificateFile, let key = tls.privateKeyFile { tlsArguments += ["--cert", certificate, "--key", key] }
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-admin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for target in targets {
        var environment = ProcessInfo.processInfo.environment
        var userArguments: [String] = []
        if let credentials = configuration.credentials {
            // The password goes through the environment, never the command line.
            environment["REDISCLI_AUTH"] = credentials.password
            if let user = credentials.username { userArguments = ["--user", user] }
        }
        let output = folder.appendingPathComponent("stdout").path
        let child = try CLIChildProcess(["redis-cli", "-h", target.host, "-p", String(target.port)] + userArguments + tlsArguments + arguments,
                                        environment: environment, stdin: nil, stdout: output, stderr: folder.appendingPathComponent("stderr").path)
        let status = await child.exitStatus()
        let reply = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0, !reply.hasPrefix("ERR"), !reply.hasPrefix("(error)") else {
            throw StoreTestAdminFailed(reply: reply)
        }
    }
}

struct StoreTestAdminFailed: Error { var reply: String }

struct StoreTestServerMissing: Error, CustomStringConvertible {
    var description: String { "REDIS_URL is not set: run the tests with Scripts/test.sh, which starts a redis-server" }
}

/// Runs `body` with a fresh store and always cleans up.
func withStore(_ kind: StoreKind, _ adjust: (inout ChatMemoryConfiguration) -> Void = { _ in },
               _ body: (StoreUnderTest) async throws -> Void) async throws {
    let store = try await StoreUnderTest.make(kind, adjust)
    do {
        try await body(store)
        try await store.cleanUp()
    } catch {
        try? await store.cleanUp()
        throw error
    }
}

/// Counts what the window reads: a pass-through over the real storage.
final class StoreTestCountingStorage: CompactionStorage, @unchecked Sendable {
    let base: any ChatStorage
    private let lock = NSLock()
    private var fetched = 0
    private var calls = 0

    init(base: any ChatStorage) { self.base = base }

    var entriesFetched: Int { lock.withLock { fetched } }
    var rangeCalls: Int { lock.withLock { calls } }

    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        try await base.append(entries, to: key, policy: policy, logger: logger)
    }
    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        let entries = try await base.range(key, start: start, stop: stop, logger: logger)
        lock.withLock { fetched += entries.count; calls += 1 }
        return entries
    }
    func length(_ key: [UInt8], logger: Logger) async throws -> Int { try await base.length(key, logger: logger) }
    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool { try await base.delete(key, logger: logger) }
    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? { try await base.timeToLive(key, logger: logger) }
    func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
        try await base.keys(withPrefix: prefix, cursor: cursor)
    }
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration, logger: Logger) async throws -> Bool {
        try await compacting(base).acquireLease(key, token: token, duration: duration, logger: logger)
    }
    func releaseLease(_ key: [UInt8], token: [UInt8], logger: Logger) async throws {
        try await compacting(base).releaseLease(key, token: token, logger: logger)
    }
    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int,
                       archive: ArchiveWrite?, logger: Logger) async throws -> Bool {
        try await compacting(base).commitSummary(key, replacing: expected, with: summary, keep: keep, archive: archive, logger: logger)
    }
    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?) {
        let both = try await compacting(base).headAndOldest(key, count: count, logger: logger)
        lock.withLock { fetched += both.head.count + (both.oldest == nil ? 0 : 1); calls += 1 }
        return both
    }
    var identity: ObjectIdentifier { (base as? any CompactionStorage)?.identity ?? ObjectIdentifier(self) }
}

/// A pass-through storage that runs `inject` once, right after the first read: an
/// append landing between two page reads, deterministically.
final class StoreTestInjectingStorage: CompactionStorage, @unchecked Sendable {
    let base: any ChatStorage
    private let lock = NSLock()
    private var inject: (@Sendable (any ChatStorage) async throws -> Void)?

    init(base: any ChatStorage, inject: @escaping @Sendable (any ChatStorage) async throws -> Void) {
        self.base = base
        self.inject = inject
    }

    func append(_ entries: [ChatStorageEntry], to key: [UInt8], policy: RetentionPolicy, logger: Logger) async throws -> AppendResult {
        try await base.append(entries, to: key, policy: policy, logger: logger)
    }
    func range(_ key: [UInt8], start: Int, stop: Int, logger: Logger) async throws -> [[UInt8]] {
        let entries = try await base.range(key, start: start, stop: stop, logger: logger)
        try await injectOnce()
        return entries
    }
    private func injectOnce() async throws {
        let pending = lock.withLock { () -> (@Sendable (any ChatStorage) async throws -> Void)? in
            defer { inject = nil }
            return inject
        }
        try await pending?(base)
    }
    func length(_ key: [UInt8], logger: Logger) async throws -> Int { try await base.length(key, logger: logger) }
    func delete(_ key: [UInt8], logger: Logger) async throws -> Bool { try await base.delete(key, logger: logger) }
    func timeToLive(_ key: [UInt8], logger: Logger) async throws -> Duration? { try await base.timeToLive(key, logger: logger) }
    func keys(withPrefix prefix: [UInt8], cursor: String?) async throws -> (keys: [[UInt8]], next: String?) {
        try await base.keys(withPrefix: prefix, cursor: cursor)
    }
    func acquireLease(_ key: [UInt8], token: [UInt8], duration: Duration, logger: Logger) async throws -> Bool {
        try await compacting(base).acquireLease(key, token: token, duration: duration, logger: logger)
    }
    func releaseLease(_ key: [UInt8], token: [UInt8], logger: Logger) async throws {
        try await compacting(base).releaseLease(key, token: token, logger: logger)
    }
    func commitSummary(_ key: [UInt8], replacing expected: [[UInt8]], with summary: [UInt8], keep: Int,
                       archive: ArchiveWrite?, logger: Logger) async throws -> Bool {
        try await compacting(base).commitSummary(key, replacing: expected, with: summary, keep: keep, archive: archive, logger: logger)
    }
    func headAndOldest(_ key: [UInt8], count: Int, logger: Logger) async throws -> (head: [RedisBytes], oldest: RedisBytes?) {
        let both = try await compacting(base).headAndOldest(key, count: count, logger: logger)
        try await injectOnce()
        return both
    }
    var identity: ObjectIdentifier { (base as? any CompactionStorage)?.identity ?? ObjectIdentifier(self) }
}

extension SessionIDs {
    /// Every id, read to the end (for tests that compare whole listings).
    func collected() async throws -> [SessionID] {
        var ids: [SessionID] = []
        for try await id in self { ids.append(id) }
        return ids
    }
}

/// A conversation of `count` plain turns, alternating user and assistant, 1 ms apart.
func storeTestTurns(_ count: Int, label: String = "turn", size: Int = 20) -> [ChatMessage] {
    (0..<count).map { index in
        ChatMessage(role: index.isMultiple(of: 2) ? .user : .assistant,
                    content: "\(label) \(index) " + String(repeating: "w", count: size),
                    createdAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index) / 1000))
    }
}

/// The compaction side of a spy's base storage (the package's storages have one).
private func compacting(_ base: any ChatStorage) throws -> any CompactionStorage {
    guard let storage = base as? any CompactionStorage else { throw ChatMemoryError.unsupportedByStorage("the spy's base cannot compact") }
    return storage
}
