import CHiredis
import Foundation
import Logging

/// The I/O thread's hold on a hiredis context: connects lazily, drops a broken or closed one,
/// backs off (with jitter) after a failed connect so callers get errors quickly instead of
/// waiting, and keeps the socket's read timeout in step with the deadline of the request read.
struct ConnectionLink {
    let configuration: RedisConfiguration
    /// Asked for the credentials of each new connection, when given.
    let credentialsProvider: RedisCredentialsProvider?
    let logger: Logger
    /// False for a dedicated connection: once connected, a lost connection stays an error.
    let reconnects: Bool
    /// Lets ``RedisConnection/close()`` interrupt a read in flight.
    let interrupter: SocketInterrupter
    /// Counts reconnects.
    let metrics: ClientMetrics
    private var context: HiredisContext?
    private var everConnected = false
    private var backoff: Duration = .zero
    /// When the last connect failed, how, and how long to wait before the next try.
    private var lastFailure: (at: ContinuousClock.Instant, error: RedisError, wait: Duration)?
    /// The socket's read and write timeout now, in milliseconds (0: none).
    private var socketTimeout = 0

    init(configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider?, logger: Logger,
         reconnects: Bool, interrupter: SocketInterrupter, metrics: ClientMetrics = ClientMetrics()) {
        self.configuration = configuration
        self.credentialsProvider = credentialsProvider
        self.logger = logger
        self.reconnects = reconnects
        self.interrupter = interrupter
        self.metrics = metrics
    }

    /// The context now held, if any (for reading replies to requests already written on it).
    var current: HiredisContext? { context }

    /// A connected context, reconnecting if the previous one broke or the server closed it.
    /// Asking for credentials, connecting and the handshake together end by `deadline` (the
    /// earliest deadline waiting), each phase also within its configured timeout.
    /// Failures here mean nothing of the caller's was sent.
    mutating func usableContext(deadline: ContinuousClock.Instant?) throws(RedisError) -> HiredisContext {
        if !reconnects {
            // Pending input is a pushed message, not a sign of a closed connection.
            if let context, !context.isBroken { return context }
            if everConnected {
                throw RedisError(.connectionClosed, "the dedicated connection was lost, and its state (database, subscriptions...) with it; nothing was sent")
            }
        }
        if let context, !context.isBroken, !context.peerClosed { return context }
        if context != nil { logger.debug("server closed the connection; reconnecting") }
        drop()
        // Elapsed time against the wait: no instant + duration sum that a huge backoff could overflow.
        if let lastFailure, lastFailure.at.duration(to: .now) < lastFailure.wait { throw lastFailure.error }
        do throws(RedisError) {
            var settings = configuration
            let fresh: HiredisContext
            if let credentialsProvider {
                settings.credentials = try fetchCredentials(from: credentialsProvider, deadline: deadline)
                do {
                    fresh = try HiredisContext(configuration: settings, deadline: deadline)
                } catch where error.code == .server(.wrongPassword) {
                    // The token may have expired between asking and AUTH: ask once more.
                    logger.debug("credentials refused (WRONGPASS); asking the provider again")
                    settings.credentials = try fetchCredentials(from: credentialsProvider, deadline: deadline)
                    fresh = try HiredisContext(configuration: settings, deadline: deadline)
                }
            } else {
                fresh = try HiredisContext(configuration: settings, deadline: deadline)
            }
            if case .tcp = configuration.endpoint, !fresh.enableKeepAlive() {
                throw RedisError(.io, "cannot turn on TCP keepalive on \(configuration.endpoint)")
            }
            guard interrupter.register(fresh.socket) else { throw RedisError.clientShutDown }
            context = fresh
            socketTimeout = fresh.socketTimeoutMilliseconds
            if everConnected { metrics.reconnected() }
            everConnected = true
            backoff = .zero
            lastFailure = nil
            logger.debug("connected", metadata: ["endpoint": "\(configuration.endpoint)"])
            return fresh
        } catch var error {
            // Connecting or the handshake failed: nothing of the caller's was sent.
            error.mayHaveRun = false
            // Cut short by the requests' own deadline: no sign that the server is down, no backoff.
            if Self.gaveUpAtDeadline(error, deadline) { throw error }
            backoff = Self.nextBackoff(after: backoff, pool: configuration.pool)
            let wait = Self.jittered(backoff)
            lastFailure = (ContinuousClock.now, error, wait)
            logger.debug("connect failed", metadata: ["error": "\(error)", "retry_in": "\(wait)"])
            throw error
        }
    }

    /// Whether a connect that failed with `error` gave up because `deadline` (the earliest
    /// deadline waiting) passed, rather than because the server did not answer in its own time.
    static func gaveUpAtDeadline(_ error: any Error, _ deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline, let error = error as? RedisError, error.code == .timeout else { return false }
        return deadline <= .now
    }

    /// Runs the async provider and waits for it on this (I/O, not cooperative) thread, within the
    /// connect timeout and `deadline`, and no longer than until the connection is closed.
    private func fetchCredentials(from provider: @escaping RedisCredentialsProvider, deadline: ContinuousClock.Instant?) throws(RedisError) -> RedisConfiguration.Credentials {
        let limit = try HiredisContext.phaseLimit(configuration.connectTimeout, deadline: deadline)
        let outcome = Locked<Result<RedisConfiguration.Credentials, RedisError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let result: Result<RedisConfiguration.Credentials, RedisError>
            do {
                result = .success(try await provider())
            } catch {
                // The error's type only: its text could hold a secret.
                result = .failure(RedisError(.io, "the credentials provider failed (\(type(of: error)))"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        let start = ContinuousClock.now
        // Waits in slices so that closing the connection is noticed.
        while done.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
            if interrupter.isInterrupted {
                task.cancel()
                throw RedisError.clientShutDown
            }
            if let limit, start.duration(to: .now) >= limit {
                task.cancel()
                throw RedisError(.timeout, "the credentials provider did not answer within the connect timeout")
            }
        }
        guard let result = outcome.withLock({ $0 }) else { throw RedisError(.io, "the credentials provider gave no answer") }
        return try result.get()
    }

    /// Sets the socket's timeout to the time left until `deadline` (none for `nil`) before a read.
    /// Skips the system call when the timeout set is already within 1% (at most 10 ms) of it,
    /// which is the common case: a request read soon after it was made.
    mutating func limitReads(of context: HiredisContext, until deadline: ContinuousClock.Instant?) throws(RedisError) {
        var wanted = 0
        if let deadline {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw RedisError(.timeout, "no reply within the command timeout", mayHaveRun: true) }
            wanted = left.clampedMilliseconds
        }
        let slack = min(wanted / 100, 10)
        if wanted == socketTimeout || (wanted != 0 && socketTimeout != 0 && abs(wanted - socketTimeout) <= slack) { return }
        try context.setTimeout(milliseconds: wanted)
        socketTimeout = wanted
    }

    /// Closes the connection (after unregistering its socket, so no interrupt can reach a reused one).
    mutating func drop() {
        guard context != nil else { return }
        interrupter.unregister()
        context = nil
    }

    /// `initialBackoff` first, then doubling up to `maxBackoff` (validated: 0 <= initial <= max).
    /// Doubles only what stays within `maxBackoff`, so it never overflows.
    private static func nextBackoff(after current: Duration, pool: RedisConfiguration.Pool) -> Duration {
        if current == .zero { return pool.initialBackoff }
        return current > pool.maxBackoff / 2 ? pool.maxBackoff : current * 2
    }

    /// A wait from half the backoff to all of it, so that clients that failed together (a server
    /// restart) do not all come back at the same moment.
    static func jittered(_ backoff: Duration) -> Duration {
        let half = backoff / 2
        return half + half * Double.random(in: 0...1)
    }
}

/// The socket of a connection's current context, so that another thread can interrupt a read in
/// flight (`shutdown(2)`, which wakes the reader without freeing the descriptor). The I/O thread
/// unregisters the socket before freeing its context, under the same lock, so a descriptor the
/// system has reused is never touched.
final class SocketInterrupter: Sendable {
    private struct State {
        var socket: Int32?
        var isInterrupted = false
    }

    private let state = Locked(State())

    /// Records the socket of a new context; false once interrupted (the context must not be used).
    func register(_ socket: Int32) -> Bool {
        state.withLock { state in
            guard !state.isInterrupted else { return false }
            state.socket = socket
            return true
        }
    }

    func unregister() {
        state.withLock { $0.socket = nil }
    }

    /// Wakes a read or write in flight (it fails at once) and refuses later sockets.
    func interrupt() {
        state.withLock { state in
            state.isInterrupted = true
            if let socket = state.socket { _ = Foundation.shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    var isInterrupted: Bool { state.withLock { $0.isInterrupted } }

    /// The socket now registered (for tests that inspect its options).
    var socket: Int32? { state.withLock { $0.socket } }
}
