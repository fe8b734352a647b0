import ChatMemoryRedis
import Foundation

/// What a worker needs besides Vapor's own flags, from its environment, checked before the
/// application is made: a bad value is a ``SettingsError`` naming the variable (exit code 64).
/// A variable that is set must be valid; it never falls back to the default.
struct WorkerSettings: Sendable {
    /// `WORKER_NAME`: 1 to 64 of `A-Z a-z 0-9 . _ -` (it also names the Redis connection);
    /// default `worker-<pid>`.
    var worker: String
    /// `PORT`; `nil` keeps Vapor's 8080. Vapor's `serve --port` (and `--hostname`) win.
    var port: Int?
    /// `REDIS_URL`, default `redis://127.0.0.1:6379`.
    var redis: RedisConfiguration
    var limits = RequestLimits()

    static let defaultRedisURL = "redis://127.0.0.1:6379"

    init(environment: [String: String]) throws {
        if let name = environment["WORKER_NAME"] {
            let allowed = name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
            guard (1...64).contains(name.utf8.count), allowed else {
                throw SettingsError("WORKER_NAME must be 1 to 64 characters from A-Z a-z 0-9 . _ - (got \(name.debugDescription))")
            }
            worker = name
        } else {
            worker = "worker-\(getpid())"
        }

        if let text = environment["PORT"] {
            guard let number = Int(text), (1...65535).contains(number) else {
                throw SettingsError("PORT must be a number from 1 to 65535 (got '\(text)')")
            }
            port = number
        }

        let url = environment["REDIS_URL"] ?? Self.defaultRedisURL
        do {
            redis = try RedisConfiguration(url: url)
        } catch {
            // A malformed URL that may hold a password is not echoed.
            if url.contains("@") {
                throw SettingsError("REDIS_URL is not a valid Redis URL (not shown: it may hold a password); expected "
                    + "redis://[user[:password]@]host[:port][/db] with any '/', '@', ':' or '%' in the password percent-encoded")
            }
            throw SettingsError("REDIS_URL: \((error as? RedisError)?.message ?? "\(error)")")
        }
        redis.clientName = "vapor-chat:\(worker)"
        // Fail a request quickly while Redis is away instead of holding the HTTP client.
        redis.connectTimeout = .seconds(1)
        redis.commandTimeout = .seconds(3)
    }
}

/// A setting that stops the worker before it starts.
struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
