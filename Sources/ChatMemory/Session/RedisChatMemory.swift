import Logging
import ChatMemoryRedis

/// Chat memory: sessions kept in Redis, so every worker process that points at the same Redis
/// sees the same sessions. Session `id` lives in the list `chat:<id>`, newest message at the head.
///
/// ```swift
/// let client = RedisClient(configuration: try .fromEnvironment())
/// let memory = try RedisChatMemory(client: client)
/// let chat = memory.session("user-42")
/// try await chat.append(.user("Hello"))
/// let window = try await chat.window(tokenLimit: 3000)
/// ```
///
/// The same type runs over any ``ChatStorage``: ``EmbeddedChatStorage`` keeps sessions in this
/// process only (not shared between workers), or implement the protocol for a backend of your own.
///
/// ```swift
/// let local = try RedisChatMemory(storage: EmbeddedChatStorage())
/// ```
public final class RedisChatMemory: Sendable {
    let storage: any ChatStorage
    let configuration: ChatMemoryConfiguration
    let logger: Logger
    private let tracing: SessionTracing

    /// Chat memory in Redis, through `client`. Throws ``ChatMemoryError/Code/invalidConfiguration``
    /// when a setting is out of range, when a ``ChatMemoryConfiguration/replication`` timeout
    /// is not shorter than the client's `commandTimeout`, or when the key prefix could name the
    /// store's own keys (`ids:{…}` id indexes, `archive:{…}` transcript archives, `lease:`
    /// compaction leases, `owner:{…}` and `owner-info:{…}` lists of conversations): it must not
    /// be empty, a beginning of one of these, or start with one.
    public convenience init(client: RedisClient, configuration: ChatMemoryConfiguration = .init(), logger: Logger = Logger(label: "chat-memory")) throws {
        for own in ["ids:{", "archive:{", "lease:", "owner:{", "owner-info:{"] where own.hasPrefix(configuration.keyPrefix) || configuration.keyPrefix.hasPrefix(own) {
            throw ChatMemoryError.invalidConfiguration("keyPrefix \"\(configuration.keyPrefix)\" could name the store's own \(own)… keys; use another (\"chat:\" by default)")
        }
        if let replication = configuration.replication, let commandTimeout = client.configuration.commandTimeout, replication.timeout >= commandTimeout {
            throw ChatMemoryError.invalidConfiguration("replication.timeout (\(replication.timeout)) must be shorter than the client's commandTimeout (\(commandTimeout))")
        }
        let storage = RedisChatStorage(client: client, keepsArchives: configuration.compaction.archive != nil)
        try self.init(validating: storage, configuration: configuration, logger: logger, tracing: SessionTracing(client: client))
    }

    /// Chat memory over another backend. Throws ``ChatMemoryError/Code/invalidConfiguration``
    /// when a setting is out of range, or when ``ChatMemoryConfiguration/replication`` is set
    /// (only Redis has replicas to wait for).
    public convenience init(storage: some ChatStorage, configuration: ChatMemoryConfiguration = .init(), logger: Logger = Logger(label: "chat-memory")) throws {
        guard configuration.replication == nil else {
            throw ChatMemoryError.invalidConfiguration("replication is for Redis (RedisChatMemory(client:)); this storage has no replicas to wait for")
        }
        try self.init(validating: storage, configuration: configuration, logger: logger, tracing: SessionTracing())
    }

    private init(validating storage: some ChatStorage, configuration: ChatMemoryConfiguration, logger: Logger, tracing: SessionTracing) throws {
        if configuration.refreshesTimeToLiveOnRead, !(storage is any SlidingExpiryStorage) {
            throw ChatMemoryError.unsupportedByStorage("refreshesTimeToLiveOnRead needs Redis or EmbeddedChatStorage (\(type(of: storage)) cannot refresh a time to live)")
        }
        self.storage = storage
        self.configuration = try configuration.validated()
        self.logger = logger
        self.tracing = tracing
    }

    /// The handle of one session; nothing is read or written until it is used.
    public func session(_ id: SessionID) -> ChatSession {
        ChatSession(id: id, key: key(of: id), owner: nil, ownerKey: nil, storage: storage,
                    configuration: configuration, logger: logger, tracing: tracing)
    }

    /// The handle of one session that belongs to `owner` (a user or a tenant): each write to it
    /// also marks it active in the owner's list of conversations
    /// (``conversations(of:after:limit:logger:)``). Pass the same owner on every call for a
    /// session: a session written under two owners is listed under both.
    public func session(_ id: SessionID, owner: OwnerID) -> ChatSession {
        ChatSession(id: id, key: key(of: id), owner: owner, ownerKey: key(of: owner), storage: storage,
                    configuration: configuration, logger: logger, tracing: tracing)
    }

    /// The storage key of a session or an owner: the configured prefix followed by the id's bytes.
    func key(of id: SessionID) -> [UInt8] {
        Array(configuration.keyPrefix.utf8) + id.bytes
    }

    /// Every session that has messages, in no particular order, fetched batch by batch as you
    /// iterate (in Redis with `SCAN`, never `KEYS`, so the server is never blocked and a million
    /// sessions never sit in memory at once).
    ///
    /// ```swift
    /// for try await id in memory.sessions() {
    ///     print(id, try await memory.session(id).count())
    /// }
    /// ```
    ///
    /// As with `SCAN`, a session that exists during the whole iteration is returned, one created
    /// or removed meanwhile may be or not, and one may be returned twice.
    public func sessions() -> SessionIDs {
        SessionIDs(storage: storage, prefix: Array(configuration.keyPrefix.utf8))
    }

    /// Removes a session; true when it existed.
    @discardableResult
    public func delete(_ id: SessionID) async throws -> Bool { try await session(id).clear() }

    /// The SHA-1 of the append script, for the package's benchmark (which runs the same server
    /// work with `redis-benchmark`); not part of the public API.
    package static var appendScriptSHA1: String { RedisChatStorage.appendScript.sha1 }

    /// The keys the append script takes for a session key (the list and its id index), for the
    /// same benchmark.
    package static func appendScriptKeys(sessionKey: String) -> [String] {
        [sessionKey, String(decoding: RedisChatStorage.indexKey(of: Array(sessionKey.utf8)), as: UTF8.self)]
    }

    /// The `ACL SETUSER` rules of a least-privilege user that runs this chat memory and nothing
    /// else: its keys (the sessions, their id indexes `ids:{…}chat:…` and transcript archives
    /// `archive:{…}chat:…`, compaction leases, and owners' lists of conversations
    /// `owner:{…}chat:…` and `owner-info:{…}chat:…`), and the
    /// commands its scripts and reads use. A client that selects a database or names its
    /// connections also needs `+select` or `+client|setname`.
    ///
    /// ```swift
    /// let rules = RedisChatMemory.aclRules(keyPrefix: "chat:")
    /// // ["resetkeys", "~chat:*", "~ids:{???}chat:*", "~archive:{???}chat:*", "~lease:chat:*",
    /// //  "~owner:{???}chat:*", "~owner-info:{???}chat:*", "resetchannels", "-@all", "+evalsha", ...]
    /// ```
    public static func aclRules(keyPrefix: String = ChatMemoryConfiguration().keyPrefix) -> [String] {
        let escaped = String(decoding: RedisChatStorage.globEscaped(Array(keyPrefix.utf8)), as: UTF8.self)
        let leases = String(decoding: RedisChatStorage.globEscaped(ChatSession.leaseKey(of: Array(keyPrefix.utf8))), as: UTF8.self) + "*"
        return ["resetkeys", "~" + escaped + "*", "~ids:{???}" + escaped + "*", "~archive:{???}" + escaped + "*", "~" + leases,
                "~owner:{???}" + escaped + "*", "~owner-info:{???}" + escaped + "*", "resetchannels", "-@all"]
            + RedisChatStorage.commandsUsed.map { "+" + $0 }
    }
}
