extension RedisConfiguration {
    /// Reads a configuration from a URL.
    ///
    /// Accepted forms:
    /// - `redis://[user[:password]@]host[:port][/db]`, where `redis://:password@host` sends a
    ///   password alone and IPv6 hosts go in brackets;
    /// - `rediss://…`, the same over TLS with the default ``TLS`` settings (the server's
    ///   certificate verified against the system's CAs and the host); in a build without TLS
    ///   (``isTLSAvailable`` false) it throws, saying how to get TLS;
    /// - `unix://[user[:password]@]/path/to/socket[?db=N]`;
    /// - `redis+cluster://[user:password@]host1:port1,host2:port2[,…]`: a Redis Cluster reached
    ///   through those seed nodes (``Topology/cluster(_:)``);
    /// - `redis+sentinel://[user:password@]host1:port1,host2:port2[,…]/<master-name>[/db]`: the
    ///   primary that those sentinels (port 26379 unless given) monitor under that name
    ///   (``Topology/sentinel(_:)``). The credentials are the data nodes'; the sentinels' own
    ///   go in ``Sentinel/credentials`` (or `REDIS_SENTINEL_PASSWORD`, see ``fromEnvironment(_:fallback:)``);
    /// - `rediss+cluster://…` and `rediss+sentinel://…`: the same over TLS (the sentinels are
    ///   reached over TLS too).
    ///
    /// The credentials run up to the last `@`, and the user name up to the first `:` in them, so a
    /// password may hold `/`, `@` and `:` as they are (`redis://app:a/b@c:d@host`); `%XX` escapes
    /// are decoded in both (write a literal `%` as `%25`).
    ///
    /// A malformed URL, or one whose settings ``validate()`` refuses, throws a ``RedisError``
    /// with code `.invalidConfiguration` saying what is wrong. The message shows the URL with
    /// everything before that last `@` replaced by `<credentials>`: no part of the user name or
    /// password ever appears in it.
    public init(url: String) throws {
        let parts = URLParts(url)
        let invalid = { (why: String) in RedisError(.invalidConfiguration, "invalid Redis URL \(parts.shown): \(why)") }
        guard let scheme = parts.scheme, let location = parts.location else {
            throw RedisError(.invalidConfiguration, "invalid Redis URL: expected redis://host[:port][/db], rediss://host[:port][/db], unix:///path/to/socket, redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/master-name")
        }
        let credentials = try parts.userInfo.map { try Self.credentials(from: $0, invalid: invalid) }
        switch scheme.lowercased() {
        case "redis":
            try self.init(redisLocation: location, invalid: invalid)
        case "unix":
            try self.init(unixLocation: location, invalid: invalid)
        case "rediss":
            try self.init(redisLocation: location, invalid: invalid)
            tls = TLS()
        case "redis+cluster", "rediss+cluster":
            try self.init(clusterLocation: location, invalid: invalid)
            if scheme.lowercased() == "rediss+cluster" { tls = TLS() }
        case "redis+sentinel", "rediss+sentinel":
            try self.init(sentinelLocation: location, invalid: invalid)
            if scheme.lowercased() == "rediss+sentinel" { tls = TLS() }
        default:
            throw invalid("unsupported scheme (expected redis, rediss, unix, redis+cluster or redis+sentinel)")
        }
        self.credentials = credentials
        do {
            try validate()
        } catch {
            throw invalid(error.message)
        }
    }

    private init(redisLocation location: Substring, invalid: (String) -> RedisError) throws {
        guard !location.contains("?") && !location.contains("#") else { throw invalid("query and fragment are not supported") }
        let pathStart = location.firstIndex(of: "/") ?? location.endIndex
        let (host, port) = try Self.hostAndPort(location[..<pathStart], defaultPort: 6379, invalid: invalid)
        let database = try Self.database(location[pathStart...].dropFirst(), invalid: invalid)
        self.init(endpoint: .tcp(host: host, port: port), database: database)
    }

    private init(clusterLocation location: Substring, invalid: (String) -> RedisError) throws {
        guard !location.contains("?") && !location.contains("#") else { throw invalid("query and fragment are not supported") }
        let pathStart = location.firstIndex(of: "/") ?? location.endIndex
        guard location[pathStart...].dropFirst().isEmpty else { throw invalid("a cluster URL has no path (a Redis Cluster has database 0 only)") }
        let seeds = try Self.endpoints(location[..<pathStart], defaultPort: 6379, invalid: invalid)
        self.init(endpoint: seeds[0])
        topology = .cluster(Cluster(seeds: seeds))
    }

    private init(sentinelLocation location: Substring, invalid: (String) -> RedisError) throws {
        guard !location.contains("?") && !location.contains("#") else { throw invalid("query and fragment are not supported") }
        guard let pathStart = location.firstIndex(of: "/") else { throw invalid("missing the master name, as in redis+sentinel://host:26379/mymaster") }
        let sentinels = try Self.endpoints(location[..<pathStart], defaultPort: 26379, invalid: invalid)
        let path = location[location.index(after: pathStart)...].split(separator: "/", omittingEmptySubsequences: false)
        guard let name = path.first.flatMap({ Self.percentDecoded($0) }) else {
            throw invalid("bad percent-encoding in the master name (write a literal '%' as %25)")
        }
        guard !name.isEmpty else { throw invalid("missing the master name, as in redis+sentinel://host:26379/mymaster") }
        guard path.count <= 2 else { throw invalid("expected /<master-name>[/db] after the sentinels") }
        self.init(endpoint: sentinels[0], database: try Self.database(path.count == 2 ? path[1] : "", invalid: invalid))
        topology = .sentinel(Sentinel(sentinels: sentinels, masterName: name))
    }

    /// `host:port,host:port,…`, at least one.
    private static func endpoints(_ text: Substring, defaultPort: Int, invalid: (String) -> RedisError) throws -> [Endpoint] {
        let hosts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard hosts.count <= 1024 else { throw invalid("more than 1024 hosts") }
        return try hosts.map { item in
            let (host, port) = try hostAndPort(item, defaultPort: defaultPort, invalid: invalid)
            return .tcp(host: host, port: port)
        }
    }

    private init(unixLocation location: Substring, invalid: (String) -> RedisError) throws {
        let queryStart = location.firstIndex(of: "?") ?? location.endIndex
        let path = location[..<queryStart]
        guard path.hasPrefix("/"), path.count > 1 else { throw invalid("expected an absolute socket path, as in unix:///run/redis.sock") }
        var database = 0
        for item in location[queryStart...].dropFirst().split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "db" else { throw invalid("unknown parameter (only db=N is supported)") }
            database = try Self.database(pair[1], invalid: invalid)
        }
        self.init(endpoint: .unixSocket(path: String(path)), database: database)
    }

    /// `user:password` or `:password`, percent-decoded. Errors never quote any of it.
    private static func credentials(from userInfo: Substring, invalid: (String) -> RedisError) throws -> Credentials {
        guard let colon = userInfo.firstIndex(of: ":") else {
            throw invalid("credentials before '@' must be user:password or :password")
        }
        guard let user = percentDecoded(userInfo[..<colon]),
              let password = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
            throw invalid("bad percent-encoding in the user name or password (write a literal '%' as %25)")
        }
        guard !password.isEmpty else { throw invalid("empty password") }
        return Credentials(username: user.isEmpty ? nil : user, password: password)
    }

    private static func database(_ text: Substring, invalid: (String) -> RedisError) throws -> Int {
        guard !text.isEmpty else { return 0 }
        guard let number = Int(text), number >= 0 else { throw invalid("the database is not a non-negative integer") }
        return number
    }

    private static func hostAndPort(_ text: Substring, defaultPort: Int, invalid: (String) -> RedisError) throws -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("unclosed '[' in IPv6 host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        var port = defaultPort
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw invalid("the port is not a number from 1 to 65535")
            }
            port = number
        }
        return (String(host), port)
    }

    /// Decodes `%XX` escapes; `nil` when an escape is malformed or the result is not UTF-8.
    static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

/// A URL cut into scheme, credentials and the rest, plus the form that error messages may show.
private struct URLParts {
    /// The text before `://`; `nil` without `://`.
    let scheme: Substring?
    /// Everything between `://` and the last `@`; `nil` without `@`.
    let userInfo: Substring?
    /// Everything after `://` and the credentials.
    let location: Substring?
    /// How errors show the URL: its scheme when it looks like one, and nothing else of it: a
    /// password typed where the host or port goes (no `@`) must not be echoed either.
    let shown: String

    init(_ url: String) {
        guard let separator = url.range(of: "://") else {
            (scheme, userInfo, location, shown) = (nil, nil, nil, "")
            return
        }
        let scheme = url[..<separator.lowerBound]
        let body = url[separator.upperBound...]
        let at = body.lastIndex(of: "@")
        self.scheme = scheme
        userInfo = at.map { body[..<$0] }
        location = at.map { body[body.index(after: $0)...] } ?? body
        // A "scheme" that is not a short word may be a password typed in the wrong place.
        let schemeShown = Self.looksLikeScheme(scheme) ? String(scheme) : "<scheme>"
        shown = schemeShown + "://…"
    }

    private static func looksLikeScheme(_ text: Substring) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 16 else { return false }
        let isLetter = { (byte: UInt8) in (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        return isLetter(first) && text.utf8.allSatisfy { isLetter($0) || (0x30...0x39).contains($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E }
    }
}
