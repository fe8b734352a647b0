import ChatMemoryRedis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Redis configuration of a run: the library's `RedisConfiguration.fromEnvironment` (REDIS_URL,
/// REDIS_USERNAME, REDIS_PASSWORD or REDIS_PASSWORD_FILE, the sentinels' REDIS_SENTINEL_* and the
/// REDIS_TLS_* settings), with `--url` in place of REDIS_URL
/// and `--password-file` in place of both password variables. Its errors never quote a password.
enum RedisSettings {
    /// The variables `fromEnvironment` reads.
    static let variables = ["REDIS_URL", "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_PASSWORD_FILE",
                            "REDIS_SENTINEL_USERNAME", "REDIS_SENTINEL_PASSWORD", "REDIS_SENTINEL_PASSWORD_FILE",
                            "REDIS_TLS_CA_FILE", "REDIS_TLS_CA_DIR", "REDIS_TLS_CERT_FILE", "REDIS_TLS_KEY_FILE",
                            "REDIS_TLS_KEY_PASSPHRASE", "REDIS_TLS_SERVER_NAME"]

    static func configuration(url: String?, passwordFile: String?) throws(CLIError) -> RedisConfiguration {
        var environment: [String: String] = [:]
        for name in variables {
            guard let value = getenv(name) else { continue }
            // Never a repaired password or URL: text that is not UTF-8 is refused.
            guard let text = String(validatingCString: value) else { throw .usage("\(name) is not UTF-8 text") }
            environment[name] = text
        }
        if let url { environment["REDIS_URL"] = url }
        if let passwordFile {
            environment["REDIS_PASSWORD"] = nil
            environment["REDIS_PASSWORD_FILE"] = passwordFile
        }
        do {
            return try RedisConfiguration.fromEnvironment(environment)
        } catch {
            throw CLIError(error)
        }
    }
}
