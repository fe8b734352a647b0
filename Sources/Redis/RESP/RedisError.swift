import Foundation

/// An error from the client or the server, as data a caller can switch over.
///
/// ```swift
/// do {
///     _ = try await client.send("LPUSH", "greeting", "hi")
/// } catch let error as RedisError where error.code == .server(.wrongType) {
///     print("not a list:", error.message)
/// }
/// ```
///
/// No error ever carries a password: connection errors name the endpoint only, and URL errors
/// replace the credentials. `description`, `debugDescription`, `localizedDescription` and `dump`
/// show the code and the message.
public struct RedisError: Error, Sendable, Hashable {
    /// What went wrong.
    public enum Code: Sendable, Hashable {
        /// Nobody listens at the address (or the socket file is missing).
        case connectionRefused
        /// Connecting, reading or writing took longer than the configured timeout.
        case timeout
        /// The connection broke (reset, closed by the server, or a socket error).
        case connectionClosed
        /// Another I/O failure while talking to the server.
        case io
        /// The server sent bytes that are not valid RESP.
        case protocolError
        /// The server answered with an error reply.
        case server(ServerErrorKind)
        /// The configuration or URL is not valid.
        case invalidConfiguration
        /// A command was malformed before it was sent (for example, no arguments).
        case invalidCommand
        /// The command changes or holds its connection's state (`SELECT`, `SUBSCRIBE`, `BLPOP`,
        /// `MULTI`...), so it was refused on the shared pool before anything was sent. Run it
        /// inside ``RedisClient/withDedicatedConnection(blockingCommandTimeout:_:)``.
        case requiresDedicatedConnection
        /// A reply did not have the shape the caller expected.
        case unexpectedReply
        /// The client was shut down.
        case shutdown
    }

    /// The class of a server error reply, taken from its first word.
    public enum ServerErrorKind: String, Sendable, Hashable, CaseIterable {
        case generic = "ERR"
        case wrongType = "WRONGTYPE"
        case noAuth = "NOAUTH"
        case noPermission = "NOPERM"
        case wrongPassword = "WRONGPASS"
        case readOnly = "READONLY"
        case outOfMemory = "OOM"
        case noScript = "NOSCRIPT"
        case moved = "MOVED"
        case ask = "ASK"
        case busy = "BUSY"
        case busyKey = "BUSYKEY"
        case tryAgain = "TRYAGAIN"
        case clusterDown = "CLUSTERDOWN"
        case crossSlot = "CROSSSLOT"
        case loading = "LOADING"
        case masterDown = "MASTERDOWN"
        case execAbort = "EXECABORT"
        case noReplicas = "NOREPLICAS"
        case unknown = ""

        /// Classifies a server error message by its leading word.
        init(message: String) {
            let word = message.prefix { $0 != " " }
            self = ServerErrorKind(rawValue: String(word)) ?? .unknown
        }
    }

    public var code: Code
    /// A human-readable message; for server errors, the server's own text.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A call made after ``RedisClient/shutdown()``.
    static let clientShutDown = RedisError(.shutdown, "the client was shut down")

    /// A server error reply, classified by its first word.
    public static func server(_ message: String) -> RedisError {
        RedisError(.server(ServerErrorKind(message: message)), message)
    }
}

extension RedisError: CustomStringConvertible, CustomDebugStringConvertible, LocalizedError {
    /// The message, after the code unless it is a server error (whose message starts with its kind).
    public var description: String {
        switch code {
        case .server: return message
        default: return "\(code): \(message)"
        }
    }

    public var debugDescription: String { "RedisError(\(description))" }

    /// The same as ``description``, so `localizedDescription` is the readable message.
    public var errorDescription: String? { description }
}
