extension RedisConfiguration {
    /// What the client talks to: one server, a Redis Cluster, or a primary that Sentinel names.
    ///
    /// With ``standalone``, commands go to ``RedisConfiguration/endpoint``. With ``cluster(_:)``
    /// and ``sentinel(_:)``, the endpoint is not used: the client finds the nodes itself, and every
    /// node gets the same credentials, database, timeouts, pool settings and TLS settings.
    public enum Topology: Sendable, Equatable {
        /// One server at ``RedisConfiguration/endpoint``.
        case standalone
        /// A Redis Cluster reached through any of its seed nodes (see ``Cluster``).
        case cluster(Cluster)
        /// A primary found by name through Sentinel (see ``Sentinel``).
        case sentinel(Sentinel)
    }

    /// How the client finds and follows a Redis Cluster.
    public struct Cluster: Sendable, Equatable {
        /// Nodes asked for the slot map (`CLUSTER SLOTS`) until one answers; any node will do.
        public var seeds: [Endpoint]
        /// How many `MOVED`/`ASK` redirects one command may follow before it fails, 1...64.
        public var maxRedirects: Int = 16
        /// How many times a command is tried again after `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`,
        /// `MASTERDOWN`, `READONLY` or a node that cannot be reached, 0...1024, with exponential
        /// backoff and jitter from ``retryBackoff`` up to half a second. The command timeout
        /// bounds the whole call, and is what ends the wait during a failover by default.
        public var maxRetries: Int = 64
        /// The first wait before trying again (more than zero).
        public var retryBackoff: Duration = .milliseconds(25)
        /// How old the slot map may grow before a call refreshes it in the background (more than
        /// zero); redirects and failed nodes refresh it sooner.
        public var refreshInterval: Duration = .seconds(30)

        public init(seeds: [Endpoint]) {
            self.seeds = seeds
        }
    }

    /// How the client finds the primary that a group of sentinels monitors.
    public struct Sentinel: Sendable, Equatable {
        /// Sentinels asked, in turn, for the primary's address.
        public var sentinels: [Endpoint]
        /// The name the sentinels monitor the primary under (`sentinel monitor <name> …`).
        public var masterName: String
        /// Credentials for the sentinels themselves (their `requirepass`), apart from the data
        /// nodes' ``RedisConfiguration/credentials``; `nil` when the sentinels need none.
        public var credentials: Credentials?

        public init(sentinels: [Endpoint], masterName: String, credentials: Credentials? = nil) {
            self.sentinels = sentinels
            self.masterName = masterName
            self.credentials = credentials
        }
    }

    /// This configuration for one node of a cluster or the Sentinel primary: the same settings,
    /// talking to `endpoint` alone.
    func node(_ endpoint: Endpoint) -> RedisConfiguration {
        var configuration = self
        configuration.endpoint = endpoint
        configuration.topology = .standalone
        return configuration
    }
}

extension RedisConfiguration.Topology: CustomStringConvertible {
    /// The nodes and the master name; the sentinels' credentials show as `<redacted>`.
    public var description: String {
        switch self {
        case .standalone: return "standalone"
        case .cluster(let cluster): return "cluster seeds " + cluster.seeds.map(\.description).joined(separator: ",")
        case .sentinel(let sentinel):
            var text = "sentinel " + sentinel.sentinels.map(\.description).joined(separator: ",") + " master \(sentinel.masterName)"
            if sentinel.credentials != nil { text += " sentinel-password <redacted>" }
            return text
        }
    }
}
