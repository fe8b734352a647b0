#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RedisConfiguration {
    /// Checks every setting and throws a ``RedisError`` with code `.invalidConfiguration` naming
    /// the first one out of range.
    ///
    /// ``RedisClient`` runs this when it is created and, if it fails, throws that error from every
    /// call (no connection is opened); ``init(url:)`` runs it too. Call it yourself to fail at start-up:
    ///
    /// ```swift
    /// var config = try RedisConfiguration.fromEnvironment()
    /// config.pool.size = Int(ProcessInfo.processInfo.environment["POOL"] ?? "") ?? 4
    /// try config.validate()   // pool.size 0 → "pool.size is 0; it must be from 1 to 1024"
    /// ```
    ///
    /// The ranges:
    /// - TCP: a non-empty host without NUL, port 1...65535; a Unix socket: a non-empty path without
    ///   NUL that fits the system's socket address (107 bytes on Linux, 103 on Apple platforms).
    /// - `database`: 0...2147483647 (the server may allow fewer: by default 0...15).
    /// - `clientName`: printable ASCII without spaces (what `CLIENT SETNAME` accepts).
    /// - `connectTimeout`, `commandTimeout`: `nil` or more than zero. Longer than
    ///   ``maximumTimeout`` (about 24.8 days) counts as ``maximumTimeout``: the system's limit.
    /// - `pool.size`: 1...``Pool/maximumSize``; `pool.maxPipelinedRequests`: 1 or more.
    /// - `pool.initialBackoff`: zero or more; `pool.maxBackoff`: at least `initialBackoff`.
    ///   Any length is accepted (the backoff never grows past `maxBackoff`).
    /// - `tls`: only in a build with TLS (``isTLSAvailable``) and over TCP; its paths and server
    ///   name non-empty without NUL; a certificate and key together or neither; a passphrase
    ///   only with a key.
    public func validate() throws(RedisError) {
        func invalid(_ why: String) -> RedisError { RedisError(.invalidConfiguration, why) }
        switch topology {
        case .standalone: try Self.validate(endpoint, invalid)
        case .cluster(let cluster): try validate(cluster, invalid)
        case .sentinel(let sentinel): try Self.validate(sentinel, invalid)
        }
        guard (0...Int(Int32.max)).contains(database) else {
            throw invalid("database \(database) is not from 0 to \(Int32.max)")
        }
        if let clientName, !clientName.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) {
            throw invalid("the client name may hold printable ASCII only, without spaces")
        }
        for (name, timeout) in [("connectTimeout", connectTimeout), ("commandTimeout", commandTimeout)] {
            if let timeout, timeout <= .zero { throw invalid("\(name) \(timeout) is not more than zero (nil means no timeout)") }
        }
        guard (1...Pool.maximumSize).contains(pool.size) else {
            throw invalid("pool.size is \(pool.size); it must be from 1 to \(Pool.maximumSize)")
        }
        guard pool.maxPipelinedRequests >= 1 else {
            throw invalid("pool.maxPipelinedRequests is \(pool.maxPipelinedRequests); it must be 1 or more")
        }
        guard pool.initialBackoff >= .zero else { throw invalid("pool.initialBackoff \(pool.initialBackoff) is negative") }
        guard pool.maxBackoff >= pool.initialBackoff else {
            throw invalid("pool.maxBackoff \(pool.maxBackoff) is shorter than pool.initialBackoff \(pool.initialBackoff)")
        }
        if let tls { try validateTLS(tls) }
    }

    private static func validate(_ endpoint: Endpoint, _ invalid: (String) -> RedisError) throws(RedisError) {
        switch endpoint {
        case .tcp(let host, let port):
            guard !host.isEmpty else { throw invalid("the host is empty") }
            guard !host.utf8.contains(0) else { throw invalid("the host contains a NUL byte") }
            guard (1...65535).contains(port) else { throw invalid("port \(port) is not from 1 to 65535") }
        case .unixSocket(let path):
            guard !path.isEmpty else { throw invalid("the socket path is empty") }
            guard !path.utf8.contains(0) else { throw invalid("the socket path contains a NUL byte") }
            let limit = maximumSocketPathBytes
            guard path.utf8.count <= limit else {
                throw invalid("the socket path is \(path.utf8.count) bytes long; the system allows \(limit)")
            }
        }
    }

    private func validate(_ cluster: Cluster, _ invalid: (String) -> RedisError) throws(RedisError) {
        guard !cluster.seeds.isEmpty else { throw invalid("a cluster needs at least one seed node") }
        for seed in cluster.seeds {
            guard case .tcp = seed else { throw invalid("cluster seed \(seed) is not a TCP address") }
            try Self.validate(seed, invalid)
        }
        guard database == 0 else { throw invalid("database \(database): a Redis Cluster has database 0 only") }
        guard (1...64).contains(cluster.maxRedirects) else { throw invalid("cluster.maxRedirects is \(cluster.maxRedirects); it must be from 1 to 64") }
        guard (0...1024).contains(cluster.maxRetries) else { throw invalid("cluster.maxRetries is \(cluster.maxRetries); it must be from 0 to 1024") }
        guard cluster.retryBackoff > .zero else { throw invalid("cluster.retryBackoff \(cluster.retryBackoff) is not more than zero") }
        guard cluster.refreshInterval > .zero else { throw invalid("cluster.refreshInterval \(cluster.refreshInterval) is not more than zero") }
    }

    private static func validate(_ sentinel: Sentinel, _ invalid: (String) -> RedisError) throws(RedisError) {
        guard !sentinel.sentinels.isEmpty else { throw invalid("Sentinel needs at least one sentinel address") }
        for address in sentinel.sentinels {
            guard case .tcp = address else { throw invalid("sentinel \(address) is not a TCP address") }
            try validate(address, invalid)
        }
        guard !sentinel.masterName.isEmpty, sentinel.masterName.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw invalid("the Sentinel master name must be non-empty printable ASCII without spaces")
        }
        if let credentials = sentinel.credentials, credentials.password.isEmpty {
            throw invalid("the sentinels' password is empty")
        }
    }

    /// The longest timeout the system takes (`Int32.max` milliseconds, about 24.8 days); a longer
    /// `connectTimeout` or `commandTimeout` counts as this.
    public static let maximumTimeout: Duration = .milliseconds(Int32.max)

    /// The longest Unix socket path, in bytes, that fits `sockaddr_un` with its final NUL.
    static var maximumSocketPathBytes: Int {
        MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
    }
}

extension Duration {
    /// Whole milliseconds, rounded up, from 1 to `Int32.max`: what hiredis and the system take.
    /// Never traps, whatever the duration.
    var clampedMilliseconds: Int {
        if self >= RedisConfiguration.maximumTimeout { return Int(Int32.max) }
        if self <= .zero { return 1 }
        // Within (0, Int32.max ms]: the components are small, so nothing below overflows.
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }

    /// Whole microseconds, rounded up, at least 1, saturating at `Int64.max` (a wait's bound;
    /// never traps).
    var wholeMicrosecondsRoundedUp: Int64 {
        if self <= .zero { return 1 }
        // Beyond this (and `components` traps past `Int64.max` seconds) the microseconds overflow.
        if self > .seconds(Int64.max / 1_000_000) { return .max }
        // Within (0, Int64.max / 10^6 s]: a whole number of seconds at the top, so no overflow below.
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + (attoseconds + 999_999_999_999) / 1_000_000_000_000
    }

    /// Whole milliseconds, rounded toward zero, saturating at the bounds of `Int64` (for
    /// messages; never traps).
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = product.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }
}
