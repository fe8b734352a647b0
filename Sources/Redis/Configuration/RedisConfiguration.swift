/// How to reach a Redis server and how the client behaves.
///
/// ```swift
/// var config = try RedisConfiguration(url: "redis://chat:s3cret@localhost:6379/2")
/// config.pool.size = 8
/// config.commandTimeout = .seconds(2)
/// let client = RedisClient(configuration: config, logger: logger)
/// ```
public struct RedisConfiguration: Sendable, Equatable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): return "unix:\(path)"
            }
        }
    }

    /// Credentials sent with `AUTH` on every new connection.
    public struct Credentials: Sendable, Equatable, CustomStringConvertible {
        /// The ACL user; `nil` authenticates as the default user with a password alone.
        public var username: String?
        public var password: String

        public init(username: String? = nil, password: String) {
            self.username = username
            self.password = password
        }

        /// Never shows the password.
        public var description: String { "Credentials(username: \(username ?? "default"), password: <redacted>)" }
    }

    /// The connection pool.
    public struct Pool: Sendable, Equatable {
        /// How many connections the client opens at most.
        public var size: Int = 4
        /// How many requests may be in flight on one connection at once (pipelined). 1 makes every
        /// request wait for a connection of its own.
        public var maxPipelinedRequests: Int = 128
        /// The first delay before reconnecting after a failed connect; it doubles up to `maxBackoff`.
        public var initialBackoff: Duration = .milliseconds(50)
        public var maxBackoff: Duration = .seconds(2)

        public init() {}
    }

    public var endpoint: Endpoint
    public var credentials: Credentials?
    /// The logical database selected on every new connection.
    public var database: Int = 0
    /// Sent with `CLIENT SETNAME` on every new connection.
    public var clientName: String?
    /// How long connecting may take; `nil` waits as long as the system does.
    public var connectTimeout: Duration? = .seconds(5)
    /// How long a command (a pipeline's read or write) may take; `nil` waits forever.
    public var commandTimeout: Duration? = .seconds(10)
    public var pool = Pool()

    /// A configuration for a TCP endpoint.
    public init(host: String = "127.0.0.1", port: Int = 6379, credentials: Credentials? = nil, database: Int = 0) {
        self.endpoint = .tcp(host: host, port: port)
        self.credentials = credentials
        self.database = database
    }

    /// A configuration for any endpoint.
    public init(endpoint: Endpoint, credentials: Credentials? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.credentials = credentials
        self.database = database
    }
}

extension RedisConfiguration: CustomStringConvertible {
    /// The endpoint and database, never the password.
    public var description: String {
        var text = "redis \(endpoint) db \(database)"
        if let user = credentials?.username { text += " user \(user)" }
        return text
    }
}
