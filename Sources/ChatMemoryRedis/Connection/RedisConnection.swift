import CHiredis
import Foundation
import Logging

/// One connection to Redis, served by a dedicated I/O thread so that hiredis's blocking calls
/// never run on Swift's cooperative thread pool or on an event loop.
///
/// Requests from many tasks are queued; the I/O thread takes everything queued, writes it in one
/// go and reads the replies in order (automatic pipelining). When the connection breaks, the
/// requests in flight fail with the error and the next request reconnects, after a backoff if
/// connecting failed. The thread starts with the first request. Each request carries its
/// caller's deadline: past it, a queued request is withdrawn unsent, and a read in flight times out.
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
        /// When the caller's whole call must be over; `nil`: no limit.
        let deadline: ContinuousClock.Instant?
        let continuation: CheckedContinuation<[Result<RedisValue, RedisError>], any Error>
    }

    private struct State {
        var queue: [Request] = []
        var nextID: UInt64 = 0
        var isClosed = false
        /// The I/O thread starts with the first request, not with the connection.
        var threadStarted = false
        /// Whether the I/O thread is serving a batch, and the batch's latest deadline
        /// (`nil` while busy: one request has no limit). A request queued behind a batch that
        /// may outlast its own deadline gets a timer; others need none.
        var isBusy = false
        var busyUntil: ContinuousClock.Instant?
    }

    let id: Int
    /// A dedicated connection connects once and never reconnects: its state would be lost.
    let isDedicated: Bool
    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    private let logger: Logger
    private let metrics: ClientMetrics
    private let state = Locked(State())
    private let wakeUp = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    let interrupter = SocketInterrupter()

    /// No thread yet: it starts with the first request.
    init(id: Int, configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger,
         isDedicated: Bool = false, metrics: ClientMetrics = ClientMetrics()) {
        self.id = id
        self.isDedicated = isDedicated
        self.configuration = configuration
        self.credentialsProvider = credentialsProvider
        var logger = logger
        logger[metadataKey: "redis.connection"] = isDedicated ? "dedicated-\(id)" : "\(id)"
        logger[metadataKey: "redis.endpoint"] = "\(configuration.endpoint)"
        self.logger = logger
        self.metrics = metrics
    }

    /// Runs the commands as one pipeline and returns each command's result, in order. With no
    /// command, reads one reply the server sends unasked (a message after `SUBSCRIBE`). A request
    /// still queued at `deadline` is withdrawn unsent; one being read times out at `deadline`.
    func execute(_ commands: [RedisCommand], deadline: ContinuousClock.Instant?) async throws -> [Result<RedisValue, RedisError>] {
        let replies = commands.isEmpty ? 1 : commands.count
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Admission { case rejected(any Error), queued(startThread: Bool, needsTimer: Bool) }
                let admission = state.withLock { state -> Admission in
                    if state.isClosed { return .rejected(closedError) }
                    if Task.isCancelled { return .rejected(CancellationError()) }
                    state.queue.append(Request(id: id, commands: commands, replies: replies, deadline: deadline, continuation: continuation))
                    let startThread = !state.threadStarted
                    state.threadStarted = true
                    var needsTimer = false
                    if let deadline, state.isBusy { needsTimer = state.busyUntil.map { $0 > deadline } ?? true }
                    return .queued(startThread: startThread, needsTimer: needsTimer)
                }
                switch admission {
                case .rejected(let error):
                    continuation.resume(throwing: error)
                case .queued(let startThread, let needsTimer):
                    if startThread { self.startThread() } else { wakeIOThread() }
                    if needsTimer, let deadline {
                        timer = Task { [self] in
                            do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                            withdraw(id, error: RedisError(.timeout, "no reply within the command timeout: the command waited its whole time in the connection's queue and was never sent"))
                        }
                    }
                }
            }
        } onCancel: {
            // A request still queued is withdrawn; on a shared connection one already written
            // runs to completion. A dedicated connection is its caller's alone: cancelling closes
            // it, so a blocking read (`BLPOP k 0`, `receive()`) ends at once with `.shutdown`.
            if !withdraw(id, error: CancellationError()), isDedicated { Task { await close() } }
        }
    }

    /// Fails a request that is still queued (true); one already taken by the I/O thread is left
    /// alone (false).
    @discardableResult
    private func withdraw(_ id: UInt64, error: any Error) -> Bool {
        let withdrawn: Request? = state.withLock { state in
            guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
            return state.queue.remove(at: index)
        }
        withdrawn?.continuation.resume(throwing: error)
        return withdrawn != nil
    }

    /// How many requests wait to be written (for tests that need to know a request is queued).
    var queuedRequests: Int {
        state.withLock { $0.queue.count }
    }

    /// Whether the I/O thread was started (for tests that count threads).
    var hasThread: Bool {
        state.withLock { $0.threadStarted }
    }

    /// Refuses new requests, fails the queued ones (never sent), interrupts a read or write in
    /// flight (it fails with `.shutdown`) and waits for the I/O thread to end.
    func close() async {
        guard beginClosing() == true else { return }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                continuation.resume()
            }
        }
    }

    /// Closes as ``close()`` does, without waiting for the I/O thread to end.
    func closeWithoutWaiting() {
        beginClosing()
    }

    /// Refuses new requests and interrupts the I/O thread; `nil` when already closed, else
    /// whether a thread was started (and so must be waited for).
    @discardableResult
    private func beginClosing() -> Bool? {
        let (alreadyClosed, started) = state.withLock { state in
            defer { state.isClosed = true }
            return (state.isClosed, state.threadStarted)
        }
        guard !alreadyClosed else { return nil }
        interrupter.interrupt()
        if started { wakeIOThread() }
        return started
    }

    private var closedError: RedisError {
        isDedicated
            ? RedisError(.shutdown, "the dedicated connection is closed (its withDedicatedConnection call returned, or the client was shut down)")
            : RedisError.clientShutDown
    }

    // MARK: - The I/O thread

    private func startThread() {
        let thread = Thread { [self] in self.run() }
        thread.name = isDedicated ? "redis-io-d\(id)" : "redis-io-\(id)"
        thread.start()
    }

    private func wakeIOThread() {
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    private func run() {
        chr_block_sigpipe_on_this_thread()
        var link = ConnectionLink(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger,
                                  reconnects: !isDedicated, interrupter: interrupter, metrics: metrics)
        while let batch = nextBatch() {
            serve(batch, over: &link)
        }
        link.drop()
        finished.signal()
    }

    /// Waits for work; `nil` once closed (failing what is still queued: it was never sent).
    private func nextBatch() -> [Request]? {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let (batch, closed) = state.withLock { state -> ([Request], Bool) in
                let batch = state.queue
                state.queue.removeAll(keepingCapacity: true)
                state.isBusy = !batch.isEmpty
                state.busyUntil = Self.latestDeadline(of: batch)
                return (batch, state.isClosed)
            }
            if closed {
                for request in batch { request.continuation.resume(throwing: closedError) }
                return nil
            }
            if !batch.isEmpty { return batch }
            wakeUp.wait()
        }
    }

    private static func latestDeadline(of batch: [Request]) -> ContinuousClock.Instant? {
        var latest: ContinuousClock.Instant?
        for request in batch {
            guard let deadline = request.deadline else { return nil }
            latest = max(latest ?? deadline, deadline)
        }
        return latest
    }

    private func serve(_ batch: [Request], over link: inout ConnectionLink) {
        // A request whose deadline passed while it was queued was never sent: it fails unsent.
        let now = ContinuousClock.now
        var live = batch
        if batch.contains(where: { $0.deadline.map { $0 <= now } ?? false }) {
            live = []
            for request in batch {
                if let deadline = request.deadline, deadline <= now {
                    request.continuation.resume(throwing: RedisError(.timeout, "no reply within the command timeout: the command waited its whole time in the connection's queue and was never sent"))
                } else {
                    live.append(request)
                }
            }
            guard !live.isEmpty else { return }
        }
        let context: HiredisContext
        do {
            context = try link.usableContext(timeLimit: live[0].deadline.map { now.duration(to: $0) })
        } catch {
            let error = interrupter.isInterrupted ? closedError : error
            for request in live { request.continuation.resume(throwing: error) }
            return
        }
        var pending = live[...]
        do {
            for request in live {
                for command in request.commands { try context.append(command) }
            }
            while let request = pending.first {
                try link.limitReads(of: context, until: request.deadline)
                var results: [Result<RedisValue, RedisError>] = []
                results.reserveCapacity(request.replies)
                for _ in 0..<request.replies { results.append(try context.readReply()) }
                pending.removeFirst()
                request.continuation.resume(returning: results)
            }
        } catch {
            let failure: RedisError = interrupter.isInterrupted
                ? RedisError(.shutdown, "the connection was closed while waiting for the reply; the command may have run", mayHaveRun: true)
                : error
            if !interrupter.isInterrupted { logger.debug("connection failed, dropping it", metadata: ["error": "\(error)"]) }
            link.drop()
            for request in pending { request.continuation.resume(throwing: failure) }
        }
    }
}
