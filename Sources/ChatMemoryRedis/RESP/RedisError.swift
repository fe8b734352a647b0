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
/// ``mayHaveRun`` tells whether a retry could run the command twice:
///
/// ```swift
/// do {
///     try await client.send("INCR", "visits")
/// } catch let error as RedisError where !error.mayHaveRun {
///     try await client.send("INCR", "visits")   // it certainly did not run: retrying is safe
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
    /// Whether the command may have reached the server, so that it may have run (fully, or in
    /// part for a script): a timeout or a broken connection after it was written, ``RedisClient/shutdown()``
    /// while waiting for its reply, or any server error reply. A retry may then run it twice.
    ///
    /// `false` when it certainly did not run, so a retry is safe: the connection was refused or
    /// could not be set up (connect, AUTH, SELECT), the command waited its whole timeout for a
    /// connection or in a connection's queue and was never written, the client was shut down
    /// before it was sent, or it was refused before sending (`.requiresDedicatedConnection`,
    /// `.invalidCommand`, `.invalidConfiguration`).
    public var mayHaveRun: Bool

    public init(_ code: Code, _ message: String, mayHaveRun: Bool = false) {
        self.code = code
        self.message = message
        self.mayHaveRun = mayHaveRun
    }

    /// A call made after ``RedisClient/shutdown()``.
    static let clientShutDown = RedisError(.shutdown, "the client was shut down")

    /// A server error reply, classified by its first word (``mayHaveRun``: the server had it).
    public static func server(_ message: String) -> RedisError {
        RedisError(.server(ServerErrorKind(message: message)), message, mayHaveRun: true)
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
