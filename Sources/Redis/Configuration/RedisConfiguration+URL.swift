#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension RedisConfiguration {
    /// Reads a configuration from a URL.
    ///
    /// Accepted forms:
    /// - `redis://[user[:password]@]host[:port][/db]`, where `redis://:password@host` sends a
    ///   password alone, IPv6 hosts go in brackets, and user and password may be percent-encoded;
    /// - `unix:///path/to/socket[?db=N]`.
    ///
    /// A malformed URL throws a ``RedisError`` with code `.invalidConfiguration` whose message says
    /// what is wrong; the message never contains the password.
    public init(url: String) throws {
        let invalid = { (why: String) in RedisError(.invalidConfiguration, "invalid Redis URL \(Self.redacted(url)): \(why)") }
        guard let schemeEnd = url.range(of: "://") else {
            throw invalid("expected redis://host[:port][/db] or unix:///path/to/socket")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let rest = url[schemeEnd.upperBound...]
        switch scheme {
        case "redis":
            try self.init(redisURLBody: rest, invalid: invalid)
        case "unix":
            try self.init(unixURLBody: rest, invalid: invalid)
        case "rediss":
            throw invalid("TLS (rediss://) is not supported")
        default:
            throw invalid("unsupported scheme '\(scheme)' (expected redis or unix)")
        }
    }

    /// The configuration in the `REDIS_URL` environment variable, or `fallback` when it is unset.
    public static func fromEnvironment(fallback: String = "redis://127.0.0.1:6379") throws -> RedisConfiguration {
        if let value = getenv("REDIS_URL"), let text = String(validatingCString: value), !text.isEmpty {
            return try RedisConfiguration(url: text)
        }
        return try RedisConfiguration(url: fallback)
    }

    private init(redisURLBody body: Substring, invalid: (String) -> RedisError) throws {
        guard !body.contains("?") && !body.contains("#") else { throw invalid("query and fragment are not supported") }
        let pathStart = body.firstIndex(of: "/") ?? body.endIndex
        let authority = body[..<pathStart]
        let path = body[pathStart...].dropFirst()

        var hostPort = authority
        var credentials: Credentials?
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            guard let colon = userInfo.firstIndex(of: ":") else {
                throw invalid("credentials before '@' must be user:password or :password")
            }
            guard let user = Self.percentDecoded(userInfo[..<colon]),
                  let password = Self.percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
                throw invalid("bad percent-encoding in user or password")
            }
            guard !password.isEmpty else { throw invalid("empty password") }
            credentials = Credentials(username: user.isEmpty ? nil : user, password: password)
        }

        let (host, port) = try Self.hostAndPort(hostPort, invalid: invalid)
        var database = 0
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else { throw invalid("database '\(path)' is not a non-negative integer") }
            database = number
        }
        self.init(endpoint: .tcp(host: host, port: port), credentials: credentials, database: database)
    }

    private init(unixURLBody body: Substring, invalid: (String) -> RedisError) throws {
        let queryStart = body.firstIndex(of: "?") ?? body.endIndex
        let path = body[..<queryStart]
        guard path.hasPrefix("/"), path.count > 1 else { throw invalid("expected an absolute socket path, as in unix:///run/redis.sock") }
        var database = 0
        for item in body[queryStart...].dropFirst().split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, pair[0] == "db" else { throw invalid("unknown parameter '\(pair[0])' (only db=N is supported)") }
            guard let number = Int(pair[1]), number >= 0 else { throw invalid("database '\(pair[1])' is not a non-negative integer") }
            database = number
        }
        self.init(endpoint: .unixSocket(path: String(path)), database: database)
    }

    private static func hostAndPort(_ text: Substring, invalid: (String) -> RedisError) throws -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("unclosed '[' in IPv6 host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected '\(after)' after IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw invalid("missing host") }
        var port = 6379
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw invalid("port '\(portText)' is not a number from 1 to 65535")
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

    /// The URL with any password replaced, for error messages.
    static func redacted(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let body = url[schemeEnd.upperBound...]
        let authorityEnd = body.firstIndex(of: "/") ?? body.endIndex
        guard let at = body[..<authorityEnd].lastIndex(of: "@") else { return url }
        let userInfo = body[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url[..<schemeEnd.upperBound] + "<redacted>" + body[at...] }
        return url[..<schemeEnd.upperBound] + userInfo[..<colon] + ":<redacted>" + body[at...]
    }
}
