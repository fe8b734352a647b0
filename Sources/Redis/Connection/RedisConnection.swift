import CHiredis
import Foundation
import Logging

/// One connection to Redis, served by a dedicated I/O thread so that hiredis's blocking calls
/// never run on Swift's cooperative thread pool or on an event loop.
///
/// Requests from many tasks are queued; the I/O thread takes everything queued, writes it in one
/// go and reads the replies in order (automatic pipelining). When the connection breaks, the
/// requests in flight fail with the error and the next request reconnects, after a backoff if
/// connecting failed.
///
/// The I/O thread blocks SIGPIPE for itself (the process-wide disposition is left alone), so a
/// write to a socket the server closed is an error. Every hiredis call on this connection's
/// context, from connect to free, runs on that thread.
final class RedisConnection: Sendable {
    /// A batch of commands from one caller, answered in one continuation.
    private struct Request {
        let id: UInt64
        let commands: [RedisCommand]
        /// How many replies to read: one per command, or one with no command (a pushed message).
        let replies: Int
        let continuation: CheckedContinuation<[Result<RedisValue, RedisError>], any Error>
    }

    private struct State {
        var queue: [Request] = []
        var nextID: UInt64 = 0
        var isClosed = false
    }

    let id: Int
    /// A dedicated connection connects once and never reconnects: its state would be lost.
    let isDedicated: Bool
    private let configuration: RedisConfiguration
    private let logger: Logger
    private let state = Locked(State())
    private let wakeUp = NSCondition()
    private let finished = DispatchSemaphore(value: 0)

    init(id: Int, configuration: RedisConfiguration, logger: Logger, isDedicated: Bool = false) {
        self.id = id
        self.isDedicated = isDedicated
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "redis.connection"] = isDedicated ? "dedicated-\(id)" : "\(id)"
        self.logger = logger
        let thread = Thread { [self] in self.run() }
        thread.name = isDedicated ? "redis-io-d\(id)" : "redis-io-\(id)"
        thread.start()
    }

    /// Runs the commands as one pipeline and returns each command's result, in order. With no
    /// command, reads one reply the server sends unasked (a message after `SUBSCRIBE`).
    func execute(_ commands: [RedisCommand]) async throws -> [Result<RedisValue, RedisError>] {
        let replies = commands.isEmpty ? 1 : commands.count
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let rejection: (any Error)? = state.withLock { state in
                    if state.isClosed { return RedisError.clientShutDown }
                    if Task.isCancelled { return CancellationError() }
                    state.queue.append(Request(id: id, commands: commands, replies: replies, continuation: continuation))
                    return nil
                }
                if let rejection {
                    continuation.resume(throwing: rejection)
                } else {
                    wakeIOThread()
                }
            }
        } onCancel: {
            // A request still queued is withdrawn; one already written runs to completion.
            let withdrawn: Request? = state.withLock { state in
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index)
            }
            withdrawn?.continuation.resume(throwing: CancellationError())
        }
    }

    /// How many requests wait to be written (for tests that need to know a request is queued).
    var queuedRequests: Int {
        state.withLock { $0.queue.count }
    }

    /// Stops the I/O thread once the queued requests are answered, and waits for it.
    func close() async {
        let alreadyClosed = state.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        guard !alreadyClosed else { return }
        wakeIOThread()
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                continuation.resume()
            }
        }
    }

    // MARK: - The I/O thread

    private func wakeIOThread() {
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    private func run() {
        chr_block_sigpipe_on_this_thread()
        var link = ConnectionLink(configuration: configuration, logger: logger, reconnects: !isDedicated)
        while let batch = nextBatch() {
            serve(batch, over: &link)
        }
        link.drop()
        finished.signal()
    }

    /// Waits for work; `nil` once closed and drained.
    private func nextBatch() -> [Request]? {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let (batch, closed) = state.withLock { state -> ([Request], Bool) in
                let batch = state.queue
                state.queue.removeAll(keepingCapacity: true)
                return (batch, state.isClosed)
            }
            if !batch.isEmpty { return batch }
            if closed { return nil }
            wakeUp.wait()
        }
    }

    private func serve(_ batch: [Request], over link: inout ConnectionLink) {
        let context: HiredisContext
        do {
            context = try link.usableContext()
        } catch {
            for request in batch { request.continuation.resume(throwing: error) }
            return
        }
        var pending = batch[...]
        do {
            for request in batch {
                for command in request.commands { try context.append(command) }
            }
            while let request = pending.first {
                var results: [Result<RedisValue, RedisError>] = []
                results.reserveCapacity(request.replies)
                for _ in 0..<request.replies { results.append(try context.readReply()) }
                pending.removeFirst()
                request.continuation.resume(returning: results)
            }
        } catch {
            logger.warning("connection failed, dropping it", metadata: ["error": "\(error)"])
            link.drop()
            for request in pending { request.continuation.resume(throwing: error) }
        }
    }
}

/// The I/O thread's hold on a hiredis context: connects lazily, drops a broken or closed one,
/// and backs off after a failed connect so callers get errors quickly instead of waiting.
private struct ConnectionLink {
    let configuration: RedisConfiguration
    let logger: Logger
    /// False for a dedicated connection: once connected, a lost connection stays an error.
    let reconnects: Bool
    private var context: HiredisContext?
    private var everConnected = false
    private var backoff: Duration = .zero
    /// When the last connect failed, and how; `nil` after a success.
    private var lastFailure: (at: ContinuousClock.Instant, error: RedisError)?

    init(configuration: RedisConfiguration, logger: Logger, reconnects: Bool) {
        self.configuration = configuration
        self.logger = logger
        self.reconnects = reconnects
    }

    /// A connected context, reconnecting if the previous one broke or the server closed it.
    mutating func usableContext() throws(RedisError) -> HiredisContext {
        if !reconnects {
            // Pending input is a pushed message, not a sign of a closed connection.
            if let context, !context.isBroken { return context }
            if everConnected {
                throw RedisError(.connectionClosed, "the dedicated connection was lost, and its state (database, subscriptions...) with it; nothing was sent")
            }
        }
        if let context, !context.isBroken, !context.peerClosed { return context }
        if context != nil { logger.debug("server closed the connection; reconnecting") }
        context = nil
        // Elapsed time against the backoff: no instant + duration sum that a huge backoff could overflow.
        if let lastFailure, lastFailure.at.duration(to: .now) < backoff { throw lastFailure.error }
        do {
            let fresh = try HiredisContext(configuration: configuration)
            context = fresh
            everConnected = true
            backoff = .zero
            lastFailure = nil
            logger.debug("connected", metadata: ["endpoint": "\(configuration.endpoint)"])
            return fresh
        } catch {
            backoff = Self.nextBackoff(after: backoff, pool: configuration.pool)
            lastFailure = (ContinuousClock.now, error)
            logger.warning("connect failed", metadata: ["error": "\(error)", "retry_in": "\(backoff)"])
            throw error
        }
    }

    mutating func drop() {
        context = nil
    }

    /// `initialBackoff` first, then doubling up to `maxBackoff` (validated: 0 <= initial <= max).
    /// Doubles only what stays within `maxBackoff`, so it never overflows.
    private static func nextBackoff(after current: Duration, pool: RedisConfiguration.Pool) -> Duration {
        if current == .zero { return pool.initialBackoff }
        return current > pool.maxBackoff / 2 ? pool.maxBackoff : current * 2
    }
}
