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
        return configuration
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
