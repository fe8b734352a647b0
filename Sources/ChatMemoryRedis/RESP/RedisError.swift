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
    /// What went wrong: compare it with `==` or switch over it (with a `default:` branch, since
    /// later versions may add codes without breaking your code).
    ///
    /// ```swift
    /// switch error.code {
    /// case .timeout, .connectionClosed: retryLater()
    /// case .server(.wrongType): print("not a list")
    /// default: throw error
    /// }
    /// ```
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case connectionRefused, timeout, connectionClosed, io, protocolError
            case server(ServerErrorKind)
            case invalidConfiguration, invalidCommand, requiresDedicatedConnection, unexpectedReply, shutdown
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// Nobody listens at the address (or the socket file is missing).
        public static let connectionRefused = Code(.connectionRefused)
        /// Connecting, reading or writing took longer than the configured timeout.
        public static let timeout = Code(.timeout)
        /// The connection broke (reset, closed by the server, or a socket error).
        public static let connectionClosed = Code(.connectionClosed)
        /// Another I/O failure while talking to the server.
        public static let io = Code(.io)
        /// The server sent bytes that are not valid RESP.
        public static let protocolError = Code(.protocolError)
        /// The configuration or URL is not valid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// A command was malformed before it was sent (for example, no arguments).
        public static let invalidCommand = Code(.invalidCommand)
        /// The command changes or holds its connection's state (`SELECT`, `SUBSCRIBE`, `BLPOP`,
        /// `MULTI`...), so it was refused on the shared pool before anything was sent. Run it
        /// inside ``RedisClient/withDedicatedConnection(blockingCommandTimeout:routingKey:_:)``.
        public static let requiresDedicatedConnection = Code(.requiresDedicatedConnection)
        /// A reply did not have the shape the caller expected.
        public static let unexpectedReply = Code(.unexpectedReply)
        /// The client was shut down.
        public static let shutdown = Code(.shutdown)

        /// The server answered with an error reply of this kind (`error.code == .server(.wrongType)`).
        public static func server(_ kind: ServerErrorKind) -> Code { Code(.server(kind)) }

        /// The kind of a server error reply; `nil` for every other code.
        public var serverErrorKind: ServerErrorKind? {
            if case .server(let kind) = base { return kind }
            return nil
        }

        /// The code's name, e.g. `timeout` or `server(WRONGTYPE)`.
        public var description: String {
            switch base {
            case .connectionRefused: "connectionRefused"
            case .timeout: "timeout"
            case .connectionClosed: "connectionClosed"
            case .io: "io"
            case .protocolError: "protocolError"
            case .server(let kind): "server(\(kind))"
            case .invalidConfiguration: "invalidConfiguration"
            case .invalidCommand: "invalidCommand"
            case .requiresDedicatedConnection: "requiresDedicatedConnection"
            case .unexpectedReply: "unexpectedReply"
            case .shutdown: "shutdown"
            }
        }
    }

    /// The class of a server error reply: its first word (`WRONGTYPE`, `NOPERM`, ...), kept as
    /// sent, so a word without a static member here (`NOGROUP`, `BUSYGROUP`, a module's own)
    /// still compares: `.server(ServerErrorKind(rawValue: "NOGROUP"))`.
    public struct ServerErrorKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The error's first word, exactly as the server sent it.
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        /// Classifies a server error message by its leading word (up to the first space).
        init(message: String) {
            self.init(rawValue: String(message.prefix { $0 != " " }))
        }

        public var description: String { rawValue }

        /// `ERR`: a generic error.
        public static let generic = ServerErrorKind(rawValue: "ERR")
        public static let wrongType = ServerErrorKind(rawValue: "WRONGTYPE")
        public static let noAuth = ServerErrorKind(rawValue: "NOAUTH")
        public static let noPermission = ServerErrorKind(rawValue: "NOPERM")
        public static let wrongPassword = ServerErrorKind(rawValue: "WRONGPASS")
        public static let readOnly = ServerErrorKind(rawValue: "READONLY")
        public static let outOfMemory = ServerErrorKind(rawValue: "OOM")
        public static let noScript = ServerErrorKind(rawValue: "NOSCRIPT")
        public static let moved = ServerErrorKind(rawValue: "MOVED")
        public static let ask = ServerErrorKind(rawValue: "ASK")
        public static let busy = ServerErrorKind(rawValue: "BUSY")
        public static let busyKey = ServerErrorKind(rawValue: "BUSYKEY")
        public static let tryAgain = ServerErrorKind(rawValue: "TRYAGAIN")
        public static let clusterDown = ServerErrorKind(rawValue: "CLUSTERDOWN")
        public static let crossSlot = ServerErrorKind(rawValue: "CROSSSLOT")
        public static let loading = ServerErrorKind(rawValue: "LOADING")
        public static let masterDown = ServerErrorKind(rawValue: "MASTERDOWN")
        public static let execAbort = ServerErrorKind(rawValue: "EXECABORT")
        public static let noReplicas = ServerErrorKind(rawValue: "NOREPLICAS")
        /// An error reply that starts with a space or is empty, so it has no first word.
        public static let unknown = ServerErrorKind(rawValue: "")
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
        code.serverErrorKind == nil ? "\(code): \(message)" : message
    }

    public var debugDescription: String { "RedisError(\(description))" }

    /// The same as ``description``, so `localizedDescription` is the readable message.
    public var errorDescription: String? { description }
}
