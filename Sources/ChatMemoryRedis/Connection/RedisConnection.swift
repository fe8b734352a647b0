import CHiredis
import Foundation
import Logging

/// One connection to Redis, served by a dedicated I/O thread so that hiredis's blocking calls
/// never run on Swift's cooperative thread pool or on an event loop.
///
/// A request made while a plain (not TLS) shared connection is idle is written at once by the
/// calling task, in one non-blocking `send`, without waking the I/O thread, which sleeps in
/// `poll` on the socket and wakes when the reply arrives. Requests made while others are in
/// flight queue up; once the replies in flight are read, the I/O thread writes everything queued
/// in one go (automatic pipelining) and reads the replies in order. TLS and dedicated connections
/// write on the I/O thread only. When the connection breaks, the requests in flight fail with the
/// error and the next request reconnects, after a backoff if connecting failed. The thread starts
/// with the first request. Each request carries its caller's deadline: past it, a queued request
/// is withdrawn unsent, and a read in flight times out.
///
/// The I/O thread blocks SIGPIPE for itself (the process-wide disposition is left alone), and
/// direct writes ask the system not to raise it, so a write to a socket the server closed is an
/// error. Every hiredis call on this connection's context, from connect to free, runs on that
/// thread; callers only ever `send` on the socket, under the state's lock, while the thread holds
/// it open.
final class RedisConnection: Sendable {
    /// A batch of commands from one caller, answered in one continuation.
    private struct Request {
        let id: UInt64
        /// The commands in RESP form (empty: read one reply the server sends unasked).
        let bytes: [UInt8]
        /// How many replies to read: one per command, or one with no command (a pushed message).
        let replies: Int
        /// When the caller's whole call must be over; `nil`: no limit.
        let deadline: ContinuousClock.Instant?
        let continuation: CheckedContinuation<[Result<RedisValue, RedisError>], any Error>
    }

    private struct State {
        /// Requests not written yet, oldest first: the I/O thread writes them once nothing is in flight.
        var unsent: [Request] = []
        /// Requests written (or whose bytes wait in `output`), oldest first: the order of their replies.
        var inFlight: [Request] = []
        /// The latest deadline of the requests in flight; `nil` with `inFlightUnbounded` when one has none.
        var inFlightUntil: ContinuousClock.Instant?
        var inFlightUnbounded = false
        /// Bytes of requests in flight that the socket has not taken yet (plain connections).
        var output: [UInt8] = []
        /// The socket callers may write to directly: set while a plain shared connection is up.
        var directSocket: Int32?
        /// The descriptors that wake the I/O thread (read, write), while it runs.
        var wake: (read: Int32, write: Int32)?
        /// A wake-up was signalled and not yet seen by the I/O thread.
        var wakePending = false
        /// While the I/O thread sleeps in `poll` on the idle socket: when that sleep ends at the
        /// latest (`nil`: it has no end). A request written directly with an earlier deadline
        /// must wake it, so that the deadline is kept.
        var sleepingUntil: ContinuousClock.Instant??
        var nextID: UInt64 = 0
        var isClosed = false
        /// The I/O thread starts with the first request, not with the connection.
        var threadStarted = false

        /// Takes the right to signal the I/O thread: the write descriptor, unless a signal is pending.
        mutating func takeWake() -> Int32? {
            guard !wakePending, let wake else { return nil }
            wakePending = true
            return wake.write
        }

        mutating func startFlight(_ request: Request) {
            inFlight.append(request)
            if let deadline = request.deadline {
                inFlightUntil = max(inFlightUntil ?? deadline, deadline)
            } else {
                inFlightUnbounded = true
            }
        }

        /// Whether a request queued now, with `deadline`, may still wait when the flight ends.
        func mayOutwait(_ deadline: ContinuousClock.Instant) -> Bool {
            guard !inFlight.isEmpty else { return false }
            return inFlightUnbounded || (inFlightUntil.map { $0 > deadline } ?? true)
        }

        mutating func endFlight() -> [Request] {
            defer {
                inFlight.removeAll(keepingCapacity: true)
                output.removeAll()
                inFlightUntil = nil
                inFlightUnbounded = false
            }
            return inFlight
        }
    }

    let id: Int
    /// A dedicated connection connects once and never reconnects: its state would be lost.
    let isDedicated: Bool
    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    private let logger: Logger
    private let metrics: ClientMetrics
    private let state = Locked(State())
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
        if commands.contains(where: { $0.arguments.isEmpty }) { throw RedisError(.invalidCommand, "a command needs at least a name") }
        let replies = commands.isEmpty ? 1 : commands.count
        let bytes = RESPEncoding.encode(commands)
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Admission { case rejected(any Error), written, queued(startThread: Bool, wake: Int32?, needsTimer: Bool) }
                let admission = state.withLock { state -> Admission in
                    if state.isClosed { return .rejected(closedError) }
                    if Task.isCancelled { return .rejected(CancellationError()) }
                    let request = Request(id: id, bytes: bytes, replies: replies, deadline: deadline, continuation: continuation)
                    if let socket = state.directSocket, state.inFlight.isEmpty, state.unsent.isEmpty {
                        switch Self.writeDirectly(bytes, to: socket) {
                        case .all:
                            state.startFlight(request)
                            // A sleeping I/O thread wakes for the reply, and at the end of its
                            // sleep; it is woken now only if this deadline comes first.
                            if case .some(let end) = state.sleepingUntil, Self.mustWake(sleepingUntil: end, for: deadline) {
                                return .queued(startThread: false, wake: state.takeWake(), needsTimer: false)
                            }
                            return .written
                        case .part(let sent):
                            state.output = Array(bytes[sent...])
                            state.startFlight(request)
                            return .queued(startThread: false, wake: state.takeWake(), needsTimer: false)
                        case .refused:
                            // The server closed the idle connection, or the socket failed before
                            // taking a byte: the I/O thread looks at it, and sends this request.
                            state.directSocket = nil
                        }
                    }
                    state.unsent.append(request)
                    let startThread = !state.threadStarted
                    state.threadStarted = true
                    let needsTimer = deadline.map { state.mayOutwait($0) } ?? false
                    // With requests in flight, the I/O thread looks at the queue once they are answered.
                    return .queued(startThread: startThread, wake: state.inFlight.isEmpty ? state.takeWake() : nil, needsTimer: needsTimer)
                }
                switch admission {
                case .rejected(let error):
                    continuation.resume(throwing: error)
                case .written:
                    break
                case .queued(let startThread, let wake, let needsTimer):
                    if startThread { self.startThread() }
                    if let wake { chr_wake_signal(wake) }
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

    private enum DirectWrite { case all, part(Int), refused }

    /// Whether an I/O thread sleeping until `sleepEnd` (`nil`: no end) must be woken to watch
    /// `deadline` (`nil`: none).
    private static func mustWake(sleepingUntil sleepEnd: ContinuousClock.Instant?, for deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline else { return false }
        guard let sleepEnd else { return true }
        return sleepEnd > deadline
    }

    /// One non-blocking `send` of a request on an idle plain connection, unless the socket is
    /// readable (the server closed it: nothing must be sent on it).
    private static func writeDirectly(_ bytes: [UInt8], to socket: Int32) -> DirectWrite {
        guard chr_readable_now(socket) == 0 else { return .refused }
        let sent = bytes.withUnsafeBytes { chr_send_nonblocking(socket, $0.baseAddress, $0.count) }
        if sent == bytes.count { return .all }
        if sent > 0 { return .part(sent) }
        if sent == 0 || errno == EAGAIN || errno == EWOULDBLOCK { return .part(0) }
        return .refused
    }

    /// Fails a request that is still queued (true); one already taken by the I/O thread is left
    /// alone (false).
    @discardableResult
    private func withdraw(_ id: UInt64, error: any Error) -> Bool {
        let withdrawn: Request? = state.withLock { state in
            guard let index = state.unsent.firstIndex(where: { $0.id == id }) else { return nil }
            return state.unsent.remove(at: index)
        }
        withdrawn?.continuation.resume(throwing: error)
        return withdrawn != nil
    }

    /// How many requests wait to be written (for tests that need to know a request is queued).
    var queuedRequests: Int {
        state.withLock { $0.unsent.count }
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
        let (alreadyClosed, started, wake) = state.withLock { state in
            defer { state.isClosed = true }
            return (state.isClosed, state.threadStarted, state.takeWake())
        }
        guard !alreadyClosed else { return nil }
        interrupter.interrupt()
        if let wake { chr_wake_signal(wake) }
        return started
    }

    /// How long the I/O thread sleeps at most on an idle socket: the command timeout (every
    /// request written meanwhile with an earlier deadline wakes it).
    private var idleSleepLimit: Duration? {
        configuration.commandTimeout.map { min($0, RedisConfiguration.maximumTimeout) }
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

    private func run() {
        chr_block_sigpipe_on_this_thread()
        var descriptors: [Int32] = [-1, -1]
        guard chr_wake_open(&descriptors) == 0 else {
            // Out of descriptors: what is queued fails, and the next request starts a thread again.
            let error = RedisError(.io, "cannot start the connection's I/O thread: no descriptor left to wake it (errno \(errno))")
            let (queued, closed) = state.withLock { state in
                defer { state.unsent.removeAll(); state.threadStarted = false }
                return (state.unsent, state.isClosed)
            }
            for request in queued { request.continuation.resume(throwing: error) }
            if closed { finished.signal() }
            return
        }
        let wake = (read: descriptors[0], write: descriptors[1])
        state.withLock { $0.wake = wake }
        var link = ConnectionLink(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger,
                                  reconnects: !isDedicated, interrupter: interrupter, metrics: metrics)
        var io = IOLoop(connection: self, wakeDescriptor: wake.read)
        io.run(over: &link)
        let (unsent, inFlight) = state.withLock { state in
            defer { state.unsent.removeAll(); state.directSocket = nil; state.wake = nil }
            return (state.unsent, state.endFlight())
        }
        link.drop()
        for request in unsent { request.continuation.resume(throwing: closedError) }
        let interrupted = RedisError(.shutdown, "the connection was closed while waiting for the reply; the command may have run", mayHaveRun: true)
        for request in inFlight { request.continuation.resume(throwing: interrupted) }
        var pair = [wake.read, wake.write]
        chr_wake_close(&pair)
        finished.signal()
    }

    /// The I/O thread's work, until the connection is closed: connect, write what is queued once
    /// nothing is in flight, read the replies in order, and sleep in between.
    private struct IOLoop {
        let connection: RedisConnection
        let wakeDescriptor: Int32
        /// The replies read so far for the oldest request in flight.
        var collected: [Result<RedisValue, RedisError>] = []

        init(connection: RedisConnection, wakeDescriptor: Int32) {
            self.connection = connection
            self.wakeDescriptor = wakeDescriptor
        }

        private var state: Locked<State> { connection.state }

        mutating func run(over link: inout ConnectionLink) {
            while !state.withLock({ $0.isClosed }) {
                let (hasUnsent, hasInFlight) = state.withLock { (!$0.unsent.isEmpty, !$0.inFlight.isEmpty) }
                if hasInFlight {
                    guard let context = link.current else {
                        failFlight(RedisError(.connectionClosed, "the connection was lost; the commands may have run", mayHaveRun: true), link: &link)
                        continue
                    }
                    readReplies(from: context, link: &link)
                } else if hasUnsent {
                    writeQueued(over: &link)
                } else {
                    sleep(link: &link)
                }
            }
        }

        /// Whether the connection is written by callers and read after `poll` (plain shared
        /// connections), rather than written and read by hiredis on this thread (TLS, dedicated).
        private func pollDriven(_ context: HiredisContext) -> Bool {
            context.isPlain && !connection.isDedicated
        }

        /// Sleeps until woken or, on an idle plain shared connection, until its socket is readable
        /// (a reply to a request written directly, or the server closing the connection), and at
        /// most the command timeout: a request written directly meanwhile has a deadline no
        /// earlier than that (or it wakes the thread), which is watched once awake.
        private mutating func sleep(link: inout ConnectionLink) {
            let limit = connection.idleSleepLimit
            let end = limit.map { ContinuousClock.now + $0 }
            let socket: Int32? = state.withLock { state in
                guard state.unsent.isEmpty, state.inFlight.isEmpty, !state.isClosed else { return nil }
                state.sleepingUntil = .some(end)
                return state.directSocket ?? -1
            }
            guard let socket else { return }
            var events: Int16 = 0
            let ready = chr_wait(wakeDescriptor, socket, Int16(POLLIN), limit.map { Int32(clamping: $0.clampedMilliseconds) } ?? -1, &events)
            let closedByServer = state.withLock { state in
                state.sleepingUntil = nil
                guard ready > 0, ready & 1 != 0, state.inFlight.isEmpty else { return false }
                state.directSocket = nil
                return true
            }
            if ready > 0, ready & 2 != 0 { drainWake() }
            if closedByServer {
                connection.logger.debug("server closed the connection; reconnecting")
                link.drop()
            }
        }

        private func drainWake() {
            chr_wake_drain(wakeDescriptor)
            state.withLock { $0.wakePending = false }
        }

        /// Takes the queue, connects if needed, then puts the queue in flight: expired requests
        /// fail unsent, the rest go out in one write. Requests queued meanwhile wait for the next turn.
        private mutating func writeQueued(over link: inout ConnectionLink) {
            let batch = state.withLock { state in
                // No direct write while the context may be replaced.
                state.directSocket = nil
                defer { state.unsent.removeAll(keepingCapacity: true) }
                return state.unsent
            }
            let context: HiredisContext
            do {
                context = try link.usableContext(timeLimit: batch.first?.deadline.map { ContinuousClock.now.duration(to: $0) })
            } catch {
                let failure = connection.interrupter.isInterrupted ? connection.closedError : error
                for request in batch { request.continuation.resume(throwing: failure) }
                return
            }
            let direct = pollDriven(context)
            let now = ContinuousClock.now
            let (expired, handOver) = state.withLock { state -> ([Request], [UInt8]) in
                var expired: [Request] = []
                var handOver: [UInt8] = []
                for request in batch {
                    if let deadline = request.deadline, deadline <= now {
                        expired.append(request)
                        continue
                    }
                    state.startFlight(request)
                    if direct { state.output += request.bytes } else { handOver += request.bytes }
                }
                if direct { state.directSocket = context.socket }
                return (expired, handOver)
            }
            for request in expired {
                request.continuation.resume(throwing: RedisError(.timeout, "no reply within the command timeout: the command waited its whole time in the connection's queue and was never sent"))
            }
            if direct {
                flush(context, link: &link)
            } else {
                do {
                    try context.appendEncoded(handOver)
                } catch {
                    failFlight(error, link: &link)
                }
            }
        }

        /// Writes what the socket takes now of the pending output (plain connections); false when
        /// the write failed (the requests in flight have failed, the connection is dropped).
        @discardableResult
        private mutating func flush(_ context: HiredisContext, link: inout ConnectionLink) -> Bool {
            let socket = context.socket
            let failure: Int32? = state.withLock { state in
                guard !state.output.isEmpty else { return nil }
                let sent = state.output.withUnsafeBytes { chr_send_nonblocking(socket, $0.baseAddress, $0.count) }
                if sent > 0 {
                    state.output.removeFirst(sent)
                    return nil
                }
                return sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK ? errno : nil
            }
            if let failure {
                let code: RedisError.Code = failure == EPIPE || failure == ECONNRESET ? .connectionClosed : .io
                failFlight(RedisError(code, "writing to the server failed: \(String(cString: strerror(failure))); the commands may have run", mayHaveRun: true), link: &link)
                return false
            }
            return true
        }

        /// Reads the replies of the requests in flight, in order, handing each request its
        /// results as soon as they are all in.
        private mutating func readReplies(from context: HiredisContext, link: inout ConnectionLink) {
            do {
                if pollDriven(context) {
                    try readAvailableReplies(from: context, link: &link)
                } else {
                    try readBlocking(from: context, link: &link)
                }
            } catch {
                failFlight(error, link: &link)
            }
        }

        /// Plain connections: waits in `poll` for the socket (or a wake-up), reads what it holds,
        /// and delivers every complete reply.
        private mutating func readAvailableReplies(from context: HiredisContext, link: inout ConnectionLink) throws(RedisError) {
            while let result = try context.bufferedReply() {
                guard deliver(result) else { throw RedisError(.protocolError, "the server sent a reply nobody asked for", mayHaveRun: true) }
            }
            let (deadline, hasOutput, stillInFlight) = state.withLock { ($0.inFlight.first?.deadline, !$0.output.isEmpty, !$0.inFlight.isEmpty) }
            guard stillInFlight else {
                // Answered before all of it was written (the server refused it and closed): the
                // rest must never be sent.
                if hasOutput { failFlight(RedisError(.protocolError, "the server answered a request before reading all of it", mayHaveRun: true), link: &link) }
                return
            }
            var timeout: Int32 = -1
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { throw RedisError(.timeout, "no reply within the command timeout", mayHaveRun: true) }
                timeout = Int32(clamping: left.clampedMilliseconds)
            }
            var events: Int16 = 0
            let wanted = Int16(POLLIN) | (hasOutput ? Int16(POLLOUT) : 0)
            let ready = chr_wait(wakeDescriptor, context.socket, wanted, timeout, &events)
            if ready < 0 {
                if errno == EINTR { return }
                throw RedisError(.io, "waiting for the server failed: \(String(cString: strerror(errno)))", mayHaveRun: true)
            }
            if ready & 2 != 0 { drainWake() }
            guard ready & 1 != 0 else { return } // timed out (checked on the next turn), or woken
            // Writes first: a server that closed the connection makes them fail (EPIPE) before
            // its last words are read.
            if hasOutput, !flush(context, link: &link) { return }
            if events & ~Int16(POLLOUT) != 0 { try context.readAvailable() }
        }

        /// TLS and dedicated connections: blocking reads, each bounded by its request's deadline.
        private mutating func readBlocking(from context: HiredisContext, link: inout ConnectionLink) throws(RedisError) {
            guard let request = state.withLock({ $0.inFlight.first }) else { return }
            try link.limitReads(of: context, until: request.deadline)
            for _ in collected.count..<request.replies {
                _ = deliver(try context.readReply())
            }
        }

        /// Adds a reply to the oldest request in flight, and resumes it once complete; false when
        /// nothing is in flight.
        private mutating func deliver(_ result: Result<RedisValue, RedisError>) -> Bool {
            collected.append(result)
            let done: Request?? = state.withLock { state in
                guard let oldest = state.inFlight.first else { return .some(nil) }
                guard collected.count == oldest.replies else { return nil }
                state.inFlight.removeFirst()
                if state.inFlight.isEmpty {
                    state.inFlightUntil = nil
                    state.inFlightUnbounded = false
                }
                return .some(oldest)
            }
            switch done {
            case .none:
                return true
            case .some(.none):
                collected.removeAll()
                return false
            case .some(.some(let request)):
                let results = collected
                collected.removeAll(keepingCapacity: true)
                request.continuation.resume(returning: results)
                return true
            }
        }

        /// The connection failed or timed out with requests in flight: it is dropped and they fail
        /// (they may have run). On a close, the error is `.shutdown`.
        private mutating func failFlight(_ error: RedisError, link: inout ConnectionLink) {
            let interrupted = connection.interrupter.isInterrupted
            let failure = interrupted
                ? RedisError(.shutdown, "the connection was closed while waiting for the reply; the command may have run", mayHaveRun: true)
                : error
            if !interrupted { connection.logger.debug("connection failed, dropping it", metadata: ["error": "\(error)"]) }
            let failed = state.withLock { state in
                state.directSocket = nil
                return state.endFlight()
            }
            collected.removeAll()
            link.drop()
            for request in failed { request.continuation.resume(throwing: failure) }
        }
    }
}
