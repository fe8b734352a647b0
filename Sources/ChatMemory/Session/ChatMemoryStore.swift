import Logging
import ChatMemoryRedis

/// A place that keeps chat sessions: ``RedisChatMemory`` (shared by every worker) or
/// ``EmbeddedChatMemory`` (one process only). Both behave the same.
public protocol ChatMemoryStore: Sendable {
    /// The handle of one session; nothing is read or written until it is used.
    func session(_ id: SessionID) -> ChatSession
    /// Every session that has messages, in no particular order.
    func sessions() async throws -> [SessionID]
    /// Removes a session; true when it existed.
    @discardableResult
    func delete(_ id: SessionID) async throws -> Bool
}

/// The shared implementation of both stores, over a storage backend.
struct SessionDirectory: Sendable {
    let storage: any ChatStorage
    let configuration: ChatMemoryConfiguration
    let logger: Logger

    func session(_ id: SessionID) -> ChatSession {
        ChatSession(id: id, key: Array(configuration.keyPrefix.utf8) + id.bytes, storage: storage,
                    configuration: configuration, logger: logger)
    }

    func sessions() async throws -> [SessionID] {
        let prefix = Array(configuration.keyPrefix.utf8)
        return try await storage.keys(withPrefix: prefix).compactMap { key in
            try? SessionID(bytes: Array(key.dropFirst(prefix.count)))
        }
    }
}

/// Chat memory in Redis: every worker process that points at the same Redis sees the same
/// sessions. Session `id` lives in the list `chat:<id>`, newest message at the head.
///
/// ```swift
/// let client = RedisClient(configuration: try .fromEnvironment())
/// let memory = try RedisChatMemory(client: client)
/// let chat = memory.session("user-42")
/// try await chat.append(.user("Hello"))
/// let window = try await chat.window(tokenLimit: 3000)
/// ```
public final class RedisChatMemory: ChatMemoryStore {
    private let directory: SessionDirectory

    /// Throws ``ChatMemoryError/invalidConfiguration(_:)`` when a setting is out of range.
    public init(client: RedisClient, configuration: ChatMemoryConfiguration = .init(), logger: Logger = Logger(label: "chat-memory")) throws {
        directory = SessionDirectory(storage: RedisChatStorage(client: client), configuration: try configuration.validated(), logger: logger)
    }

    public func session(_ id: SessionID) -> ChatSession { directory.session(id) }

    /// Lists sessions with `SCAN` (never `KEYS`), so the server is never blocked.
    public func sessions() async throws -> [SessionID] { try await directory.sessions() }

    @discardableResult
    public func delete(_ id: SessionID) async throws -> Bool { try await session(id).clear() }

    /// The SHA-1 of the append script (for running the same server work elsewhere, e.g. in a benchmark).
    public static var appendScriptSHA1: String { RedisChatStorage.appendScript.sha1 }

    /// The `ACL SETUSER` rules of a least-privilege user that runs this chat memory and nothing
    /// else: its keys, and the commands its scripts and reads use. A client that selects a
    /// database or names its connections also needs `+select` or `+client|setname`.
    ///
    /// ```swift
    /// let rules = RedisChatMemory.aclRules(keyPrefix: "chat:")
    /// // ["resetkeys", "~chat:*", "resetchannels", "-@all", "+evalsha", "+script|load", ...]
    /// ```
    public static func aclRules(keyPrefix: String = ChatMemoryConfiguration().keyPrefix) -> [String] {
        let pattern = String(decoding: RedisChatStorage.globEscaped(Array(keyPrefix.utf8)), as: UTF8.self) + "*"
        let leases = String(decoding: RedisChatStorage.globEscaped(ChatSession.leaseKey(of: Array(keyPrefix.utf8))), as: UTF8.self) + "*"
        return ["resetkeys", "~" + pattern, "~" + leases, "resetchannels", "-@all"]
            + RedisChatStorage.commandsUsed.map { "+" + $0 }
    }
}

/// Chat memory in this process only, with the same API and behaviour as ``RedisChatMemory``:
/// for a single process, for tests, and for trying the library without Redis.
///
/// - Important: It is **not shared between workers**. Each process (each PM2 worker, each
///   Kubernetes replica, each serverless instance) gets its own, so a conversation whose turns
///   land on different workers sees different histories. Use ``RedisChatMemory`` there.
public final class EmbeddedChatMemory: ChatMemoryStore {
    private let directory: SessionDirectory

    public init(configuration: ChatMemoryConfiguration = .init(), logger: Logger = Logger(label: "chat-memory")) throws {
        directory = SessionDirectory(storage: EmbeddedChatStorage(), configuration: try configuration.validated(), logger: logger)
    }

    public func session(_ id: SessionID) -> ChatSession { directory.session(id) }

    public func sessions() async throws -> [SessionID] { try await directory.sessions() }

    @discardableResult
    public func delete(_ id: SessionID) async throws -> Bool { try await session(id).clear() }
}
