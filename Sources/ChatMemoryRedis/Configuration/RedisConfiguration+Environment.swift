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
        let password: String?
        switch (value("REDIS_PASSWORD"), value("REDIS_PASSWORD_FILE")) {
        case (.some, .some):
            throw RedisError(.invalidConfiguration, "set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both")
        case (let text?, nil):
            password = text
        case (nil, let path?):
            password = try readPasswordFile(path)
        case (nil, nil):
            password = nil
        }
        let username = value("REDIS_USERNAME") ?? configuration.credentials?.username
        if let password {
            configuration.credentials = Credentials(username: username, password: password)
        } else if let current = configuration.credentials {
            configuration.credentials = Credentials(username: username, password: current.password)
        } else if username != nil {
            throw RedisError(.invalidConfiguration, "REDIS_USERNAME is set but no password is (set REDIS_PASSWORD or REDIS_PASSWORD_FILE)")
        }
        try applyTLSEnvironment(to: &configuration, value)
        return configuration
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
    private static func readPasswordFile(_ path: String) throws -> String {
        let limit = 64 * 1024
        guard let file = FileHandle(forReadingAtPath: path) else {
            throw RedisError(.invalidConfiguration, "cannot open REDIS_PASSWORD_FILE '\(path)'")
        }
        defer { try? file.close() }
        let data: Data
        do {
            data = try file.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw RedisError(.invalidConfiguration, "cannot read REDIS_PASSWORD_FILE '\(path)'")
        }
        guard data.count <= limit else {
            throw RedisError(.invalidConfiguration, "REDIS_PASSWORD_FILE '\(path)' is larger than 64 KiB")
        }
        guard var text = String(validating: data, as: UTF8.self) else {
            throw RedisError(.invalidConfiguration, "REDIS_PASSWORD_FILE '\(path)' is not UTF-8 text")
        }
        while let last = text.utf8.last, last == 0x0A || last == 0x0D { text.removeLast() }
        guard !text.isEmpty else { throw RedisError(.invalidConfiguration, "REDIS_PASSWORD_FILE '\(path)' is empty") }
        return text
    }
}
