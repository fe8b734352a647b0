/// How to reach a Redis server and how the client behaves.
///
/// ```swift
/// var config = try RedisConfiguration(url: "redis://chat:s3cret@localhost:6379/2")
/// config.pool.size = 8
/// config.commandTimeout = .seconds(2)
/// let client = RedisClient(configuration: config, logger: logger)
/// ```
///
/// Settings out of range (a port of 0, a pool of 0 connections, a negative timeout...) never
/// trap: ``validate()`` names them, and a client created with them throws that error on every
/// call. Printing, `dump` and `Mirror` never show the password (nor a TLS key passphrase).
public struct RedisConfiguration: Sendable, Equatable {
    /// Where the server listens.
    public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unixSocket(let path): return "unix:\(path)"
            }
        }
    }

    /// Credentials sent with `AUTH` on every new connection. Its `description`,
    /// `debugDescription` and mirror (what `dump` and debuggers show) never contain the password.
    public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// The ACL user; `nil` authenticates as the default user with a password alone.
        public var username: String?
        public var password: String

        public init(username: String? = nil, password: String) {
            self.username = username
            self.password = password
        }

        /// Never shows the password.
        public var description: String { "Credentials(username: \(username ?? "default"), password: <redacted>)" }

        /// Never shows the password.
        public var debugDescription: String { description }

        /// The user name, and the password as `<redacted>`.
        public var customMirror: Mirror {
            Mirror(self, children: ["username": username as Any, "password": "<redacted>"], displayStyle: .struct)
        }
    }

    /// The connection pool.
    public struct Pool: Sendable, Equatable {
        /// The largest `size` accepted: each connection has its own thread.
        public static let maximumSize = 1024

        /// How many connections the client opens at most, from 1 to ``maximumSize``.
        public var size: Int = 4
        /// How many requests may be in flight on one connection at once (pipelined), 1 or more.
        /// 1 makes every request wait for a connection of its own; `Int.max` sets no bound.
        public var maxPipelinedRequests: Int = 128
        /// The first delay before reconnecting after a failed connect (zero or more); it doubles
        /// up to `maxBackoff`. Meanwhile calls fail at once with the connect error.
        public var initialBackoff: Duration = .milliseconds(50)
        /// The longest delay between reconnect attempts; at least `initialBackoff`.
        public var maxBackoff: Duration = .seconds(2)

        public init() {}
    }

    /// The server, for the ``Topology/standalone`` topology (the default).
    public var endpoint: Endpoint
    /// One server, a Redis Cluster or a Sentinel-managed primary (what `redis+cluster://` and
    /// `redis+sentinel://` URLs set). See ``Topology``.
    public var topology: Topology = .standalone
    public var credentials: Credentials?
    /// The logical database selected on every new connection (0...2147483647).
    public var database: Int = 0
    /// Sent with `CLIENT SETNAME` on every new connection.
    public var clientName: String?
    /// How long connecting may take (more than zero; at most ``maximumTimeout`` counts);
    /// `nil` waits as long as the system does.
    public var connectTimeout: Duration? = .seconds(5)
    /// How long a command (a pipeline's read or write) may take (more than zero; at most
    /// ``maximumTimeout`` counts); `nil` waits forever.
    public var commandTimeout: Duration? = .seconds(10)
    public var pool = Pool()
    /// TLS (what a `rediss://` URL sets); `nil` speaks plain TCP. See ``TLS``.
    public var tls: TLS?

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

extension RedisConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The endpoint, database and user, never the password.
    public var description: String {
        var text: String
        switch topology {
        case .standalone: text = "\(tls == nil ? "redis" : "rediss") \(endpoint) db \(database)"
        default: text = "\(tls == nil ? "redis" : "rediss") \(topology) db \(database)"
        }
        if let user = credentials?.username { text += " user \(user)" }
        if credentials != nil { text += " password <redacted>" }
        if tls?.insecureSkipVerification == true { text += " tls unverified" }
        return text
    }

    /// The same as ``description``: never the password.
    public var debugDescription: String { "RedisConfiguration(\(description))" }

    /// Every setting, with the credentials' own mirror, which hides the password.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "endpoint": endpoint,
            "topology": topology,
            "credentials": credentials as Any,
            "database": database,
            "clientName": clientName as Any,
            "connectTimeout": connectTimeout as Any,
            "commandTimeout": commandTimeout as Any,
            "pool": pool,
            "tls": tls as Any,
        ], displayStyle: .struct)
    }
}
