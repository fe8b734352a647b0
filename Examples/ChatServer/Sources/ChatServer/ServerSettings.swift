import ArgumentParser
import ChatMemory
import Foundation
import Logging
import ChatMemoryRedis

/// Everything a worker needs to start, from its options and its environment, checked before
/// anything starts: a bad value is a `ValidationError` naming the setting (exit code 64).
///
/// An environment variable that is set must be valid: `PORT=abc` or an empty `PORT` is an error,
/// never a silent fallback to the default.
struct ServerSettings: Sendable {
    var host: String
    var port: Int
    var store: StoreKind
    var worker: String
    var logLevel: Logger.Level
    /// Where Redis is, for the Redis store; `nil` for the embedded store.
    var redis: RedisConfiguration?
    /// Replicas every append waits for (`CHAT_REPLICAS`, 1 to 100, Redis store only); `nil` when unset.
    var replication: ChatMemoryConfiguration.Replication?
    var limits: RequestLimits
    /// Automatic compaction; `nil` when turned off (`--compact-at 0`).
    var compaction: Compaction?
    /// How long, in seconds, the worker waits for a client: a connection without a complete
    /// request head this long after it opened or after its previous response (idle keep-alive,
    /// slow headers) is closed, and so is one whose body has not arrived this long after its head.
    var readTimeout: Int

    static let tokenRange = 64...1_000_000
    static let bodyRange = 1024...(16 << 20)
    static let readTimeoutRange = 1...3600
    static let defaultRedisURL = "redis://127.0.0.1:6379"

    /// The options as given (`nil` when not given) and the process's environment.
    init(host: String, port: Int?, store: StoreKind, worker: String?, tokens: Int, maxBodyBytes: Int,
         maxContentBytes: Int, readTimeout: Int, compactAt: Int? = nil, compactTo: Int? = nil, environment: [String: String]) throws {
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
        self.host = host
        self.store = store

        if let port {
            self.port = try Self.port(port, from: "--port")
        } else if let text = environment["PORT"] {
            guard let number = Int(text) else { throw ValidationError("PORT must be a number from 1 to 65535 (got '\(text)')") }
            self.port = try Self.port(number, from: "PORT")
        } else {
            self.port = 8080
        }

        if let worker {
            self.worker = try Self.workerName(worker, from: "--worker")
        } else if let name = environment["WORKER_NAME"] {
            self.worker = try Self.workerName(name, from: "WORKER_NAME")
        } else {
            self.worker = "worker-\(getpid())"
        }

        if let level = environment["LOG_LEVEL"] {
            guard let parsed = Logger.Level(rawValue: level) else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("LOG_LEVEL must be one of \(names) (got '\(level)')")
            }
            logLevel = parsed
        } else {
            logLevel = .info
        }

        guard Self.tokenRange.contains(tokens) else {
            throw ValidationError("--tokens must be from \(Self.tokenRange.lowerBound) to \(Self.tokenRange.upperBound) (got \(tokens))")
        }
        guard Self.bodyRange.contains(maxBodyBytes) else {
            throw ValidationError("--max-body-bytes must be from \(Self.bodyRange.lowerBound) to \(Self.bodyRange.upperBound) (got \(maxBodyBytes))")
        }
        guard (1...maxBodyBytes).contains(maxContentBytes) else {
            throw ValidationError("--max-content-bytes must be from 1 to --max-body-bytes (\(maxBodyBytes)) (got \(maxContentBytes))")
        }
        limits = RequestLimits(tokens: tokens, maxBodyBytes: maxBodyBytes, maxContentBytes: maxContentBytes)
        let threshold = compactAt ?? tokens
        if threshold != 0 {
            guard Self.tokenRange.contains(threshold) else {
                throw ValidationError("--compact-at must be 0 (off) or from \(Self.tokenRange.lowerBound) to \(Self.tokenRange.upperBound) (got \(threshold))")
            }
            let target = compactTo ?? threshold / 2
            guard (0..<threshold).contains(target) else {
                throw ValidationError("--compact-to must be from 0 to --compact-at - 1 (\(threshold - 1)) (got \(target))")
            }
            compaction = Compaction(thresholdTokens: threshold, targetTokens: target)
        } else if let compactTo {
            throw ValidationError("--compact-to needs compaction on (got --compact-at 0 and --compact-to \(compactTo))")
        }
        guard Self.readTimeoutRange.contains(readTimeout) else {
            throw ValidationError("--read-timeout must be from \(Self.readTimeoutRange.lowerBound) to \(Self.readTimeoutRange.upperBound) seconds (got \(readTimeout))")
        }
        self.readTimeout = readTimeout

        switch store {
        case .embedded:
            redis = nil
            guard environment["CHAT_REPLICAS"] == nil else { throw ValidationError("CHAT_REPLICAS needs --store redis") }
        case .redis:
            var configuration = try Self.redisConfiguration(url: environment["REDIS_URL"] ?? Self.defaultRedisURL)
            configuration.clientName = "chat-server:\(self.worker)"
            // Fail a request quickly while Redis is away instead of holding the HTTP client.
            configuration.connectTimeout = .seconds(1)
            configuration.commandTimeout = .seconds(3)
            redis = configuration
            if let text = environment["CHAT_REPLICAS"] {
                guard let replicas = Int(text), (1...100).contains(replicas) else {
                    throw ValidationError("CHAT_REPLICAS must be a number from 1 to 100 (got '\(text)')")
                }
                replication = .init(replicas: replicas, timeout: .milliseconds(500))
            }
        }
    }

    private static func port(_ port: Int, from source: String) throws -> Int {
        guard (1...65535).contains(port) else { throw ValidationError("\(source) must be a number from 1 to 65535 (got \(port))") }
        return port
    }

    /// A worker name goes into the `X-Worker` header and Redis's `CLIENT SETNAME`, which refuses
    /// spaces and special characters: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    private static func workerName(_ name: String, from source: String) throws -> String {
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
        guard (1...64).contains(name.utf8.count), allowed else {
            throw ValidationError("\(source) must be 1 to 64 characters from A-Z a-z 0-9 . _ - (got \(name.debugDescription))")
        }
        return name
    }

    /// Parses `REDIS_URL` without ever echoing a password. The library redacts the password in its
    /// message, but a password with an unescaped `/` or `@` is split elsewhere by the parser, so
    /// pieces of it could show up in the reason; a URL that may carry credentials is not described.
    static func redisConfiguration(url: String) throws -> RedisConfiguration {
        do {
            return try RedisConfiguration(url: url)
        } catch {
            if url.contains("@") {
                throw ValidationError("REDIS_URL is not a valid Redis URL (not shown: it may hold a password); expected "
                    + "redis://[user[:password]@]host[:port][/db] with any '/', '@', ':' or '%' in the password percent-encoded")
            }
            throw ValidationError("REDIS_URL: \((error as? RedisError)?.message ?? "\(error)")")
        }
    }
}
