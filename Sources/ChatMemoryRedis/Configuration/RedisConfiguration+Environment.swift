import Foundation

extension RedisConfiguration {
    /// The configuration named by environment variables, so that no password needs to be on a
    /// command line:
    ///
    /// - `REDIS_URL`: the URL (see ``init(url:)``); `fallback` when it is unset or empty.
    /// - `REDIS_USERNAME`: the ACL user, replacing the URL's.
    /// - `REDIS_PASSWORD`, or `REDIS_PASSWORD_FILE` naming a file that holds it (for secrets
    ///   mounted as files; line breaks at its end are ignored, at most 64 KiB): the password,
    ///   replacing the URL's. Setting both is an error, and so is `REDIS_USERNAME` with no
    ///   password from anywhere.
    /// - With a `rediss://` URL (TLS): `REDIS_TLS_CA_FILE`, `REDIS_TLS_CA_DIR`,
    ///   `REDIS_TLS_CERT_FILE`, `REDIS_TLS_KEY_FILE`, `REDIS_TLS_KEY_PASSPHRASE` and
    ///   `REDIS_TLS_SERVER_NAME` set the ``TLS`` settings of the same names (`caFile`,
    ///   `caFolder`, `certificateFile`, `privateKeyFile`, `privateKeyPassphrase`, `serverName`).
    ///   Setting one with a URL that is not `rediss://` is an error (it would be ignored).
    ///   Verification cannot be turned off from the environment.
    /// - With a `redis+sentinel://` URL: `REDIS_SENTINEL_USERNAME` and `REDIS_SENTINEL_PASSWORD`
    ///   (or `REDIS_SENTINEL_PASSWORD_FILE`): the sentinels' own credentials
    ///   (``Sentinel/credentials``), apart from the data nodes'. Setting one with another URL is
    ///   an error.
    ///
    /// ```swift
    /// // REDIS_URL=redis://redis.internal:6379/2 REDIS_USERNAME=chat REDIS_PASSWORD_FILE=/run/secrets/redis
    /// let client = RedisClient(configuration: try .fromEnvironment(), logger: logger)
    /// ```
    ///
    /// Errors are ``RedisError``s with code `.invalidConfiguration`; they never quote a password
    /// or the contents of the password file.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment,
        fallback: String = "redis://127.0.0.1:6379"
    ) throws -> RedisConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var configuration = try RedisConfiguration(url: value("REDIS_URL") ?? fallback)
        let password = try self.password(value, variable: "REDIS_PASSWORD")
        let username = value("REDIS_USERNAME") ?? configuration.credentials?.username
        if let password {
            configuration.credentials = Credentials(username: username, password: password)
        } else if let current = configuration.credentials {
            configuration.credentials = Credentials(username: username, password: current.password)
        } else if username != nil {
            throw RedisError(.invalidConfiguration, "REDIS_USERNAME is set but no password is (set REDIS_PASSWORD or REDIS_PASSWORD_FILE)")
        }
        try applyTLSEnvironment(to: &configuration, value)
        try applySentinelEnvironment(to: &configuration, value)
        return configuration
    }

    /// The password in `variable`, or in the file that `variable_FILE` names; setting both is an error.
    private static func password(_ value: (String) -> String?, variable: String) throws -> String? {
        switch (value(variable), value(variable + "_FILE")) {
        case (.some, .some): throw RedisError(.invalidConfiguration, "set \(variable) or \(variable)_FILE, not both")
        case (let text?, nil): return text
        case (nil, let path?): return try readPasswordFile(path, variable: variable + "_FILE")
        case (nil, nil): return nil
        }
    }

    /// Sets the sentinels' credentials named by REDIS_SENTINEL_* on a `redis+sentinel://` configuration.
    private static func applySentinelEnvironment(to configuration: inout RedisConfiguration, _ value: (String) -> String?) throws {
        let username = value("REDIS_SENTINEL_USERNAME")
        let password = try self.password(value, variable: "REDIS_SENTINEL_PASSWORD")
        guard username != nil || password != nil else { return }
        guard case .sentinel(var sentinel) = configuration.topology else {
            throw RedisError(.invalidConfiguration, "REDIS_SENTINEL_USERNAME/REDIS_SENTINEL_PASSWORD set, but REDIS_URL is not a redis+sentinel:// URL")
        }
        guard let password else {
            throw RedisError(.invalidConfiguration, "REDIS_SENTINEL_USERNAME is set but no password is (set REDIS_SENTINEL_PASSWORD or REDIS_SENTINEL_PASSWORD_FILE)")
        }
        sentinel.credentials = Credentials(username: username, password: password)
        configuration.topology = .sentinel(sentinel)
    }

    /// The environment variables of the ``TLS`` settings, by setting.
    private static var tlsVariables: [(name: String, setting: WritableKeyPath<TLS, String?>)] { [
        ("REDIS_TLS_CA_FILE", \.caFile),
        ("REDIS_TLS_CA_DIR", \.caFolder),
        ("REDIS_TLS_CERT_FILE", \.certificateFile),
        ("REDIS_TLS_KEY_FILE", \.privateKeyFile),
        ("REDIS_TLS_KEY_PASSPHRASE", \.privateKeyPassphrase),
        ("REDIS_TLS_SERVER_NAME", \.serverName),
    ] }

    /// Sets the TLS settings named by REDIS_TLS_* on a `rediss://` configuration; re-validates.
    private static func applyTLSEnvironment(to configuration: inout RedisConfiguration, _ value: (String) -> String?) throws {
        let given = tlsVariables.filter { value($0.name) != nil }
        guard !given.isEmpty else { return }
        guard var tls = configuration.tls else {
            let names = given.map(\.name).joined(separator: ", ")
            throw RedisError(.invalidConfiguration, "\(names) set, but REDIS_URL is not a rediss:// (TLS) URL")
        }
        for variable in given { tls[keyPath: variable.setting] = value(variable.name) }
        configuration.tls = tls
        try configuration.validate()
    }

    /// The password in a file, without the line breaks at its end.
    private static func readPasswordFile(_ path: String, variable: String) throws -> String {
        let limit = 64 * 1024
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw RedisError(.invalidConfiguration, "cannot open \(variable) '\(path)'")
        }
        defer { try? file.close() }
        let data: Data
        do {
            data = try file.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw RedisError(.invalidConfiguration, "cannot read \(variable) '\(path)'")
        }
        guard data.count <= limit else {
            throw RedisError(.invalidConfiguration, "\(variable) '\(path)' is larger than 64 KiB")
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            throw RedisError(.invalidConfiguration, "\(variable) '\(path)' is not UTF-8 text")
        }
        while let last = text.utf8.last, last == 0x0A || last == 0x0D { text.removeLast() }
        guard !text.isEmpty else { throw RedisError(.invalidConfiguration, "\(variable) '\(path)' is empty") }
        return text
    }
}
