import CHiredis
import Foundation
import Logging

/// One connection to Redis, served by a dedicated I/O thread so that hiredis's blocking calls
/// never run on Swift's cooperative thread pool or on an event loop.
///
/// A caller alone in its pool (and no calls overlapping lately), on an idle plain (not TLS)
/// connection, makes its round trip itself: one non-blocking `send`, then at most ``inPlaceWait`` in `poll` for the reply, which
/// spares the two thread hand-offs of a call served by the I/O thread; a slower reply is handed
/// over to that thread. Otherwise requests queue up; the I/O thread writes everything queued in
/// one go (automatic pipelining) and reads the replies in order, and what was queued meanwhile
/// goes in the next write. When the connection breaks, the requests in flight fail with the error
/// and the next request reconnects, after a backoff if connecting failed. The thread starts with
/// the first request. Each request carries its caller's deadline: past it, a queued request is
/// withdrawn unsent, and a read in flight times out.
///
/// The I/O thread blocks SIGPIPE for itself (the process-wide disposition is left alone), and a
/// caller's `send` asks the system not to raise it, so a write to a socket the server closed is
/// an error. The hiredis context is used by one thread at a time: the I/O thread, or a caller
/// that claimed it under the state's lock (only the I/O thread connects, replaces and frees it).
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
        /// Replies its caller read before handing the rest of the wait to the I/O thread.
        var received: [Result<RedisValue, RedisError>] = []
    }

    private struct State {
        /// Requests not written yet, oldest first: the I/O thread writes them once nothing is in flight.
        var unsent: [Request] = []
        /// Requests written (or whose bytes wait in `output`), oldest first: the order of their replies.
        var inFlight: [Request] = []
        /// The latest deadline of the requests in flight; `nil` with `inFlightUnbounded` when one has none.
        var inFlightUntil: ContinuousClock.Instant?
        var inFlightUnbounded = false
        /// The context a caller may use for a round trip of its own (see
        /// ``RedisConnection/answerInPlace(_:replies:deadline:)``): set while a plain shared
        /// connection is up.
        var directContext: HiredisContext?
        /// A caller is making its round trip on the context: the I/O thread leaves it alone.
        var callerHoldsContext = false
        /// A caller found the context broken or closed by the server: the I/O thread drops it.
        var dropRequested = false
        /// The descriptors that wake the I/O thread (read, write), while it runs.
        var wake: (read: Int32, write: Int32)?
        /// A wake-up was signalled and not yet seen by the I/O thread.
        var wakePending = false
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

        /// No caller may use the context any more (it is about to be replaced or dropped).
        mutating func closeDirectAccess() {
            directContext = nil
        }

        mutating func startFlight(_ request: Request) {
            inFlight.append(request)
            if let deadline = request.deadline {
                inFlightUntil = max(inFlightUntil ?? deadline, deadline)
            } else {
                inFlightUnbounded = true
            }
        }

        /// Whether a request queued now, with `deadline`, may still wait when the flight (or a
        /// caller's round trip in place) ends: then it needs a timer of its own.
        func mayOutwait(_ deadline: ContinuousClock.Instant) -> Bool {
            // A caller's round trip in place may be handed over and then outlast any deadline.
            if callerHoldsContext { return true }
            guard !inFlight.isEmpty else { return false }
            return inFlightUnbounded || (inFlightUntil.map { $0 > deadline } ?? true)
        }

        mutating func endFlight() -> [Request] {
            defer {
                inFlight.removeAll(keepingCapacity: true)
                inFlightUntil = nil
                inFlightUnbounded = false
            }
            return inFlight
        }
    }

    let id: Int
    /// A dedicated connection connects once and never reconnects: its state would be lost.
    let isDedicated: Bool
    /// The pool's count of callers holding a slot: a caller alone may make its round trip in place.
    private let load: PoolLoad?
    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    private let logger: Logger
    private let metrics: ClientMetrics
    private let state = Locked(State())
    private let finished = DispatchSemaphore(value: 0)
    let interrupter = SocketInterrupter()

    /// No thread yet: it starts with the first request.
    init(id: Int, configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger,
         isDedicated: Bool = false, metrics: ClientMetrics = ClientMetrics(), load: PoolLoad? = nil) {
        self.id = id
        self.isDedicated = isDedicated
        self.load = load
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
        var handedOver: [Result<RedisValue, RedisError>]?
        if let load, load.isQuiet, !bytes.isEmpty, bytes.count <= Self.inPlaceLimit {
            switch try answerInPlace(bytes, replies: replies, deadline: deadline) {
            case .answered(let results):
                if load.answeredInPlace() { await Task.yield() }
                return results
            case .handOver(let received): handedOver = received
            case .notTaken: break
            }
        }
        let id = state.withLock { state in
            state.nextID &+= 1
            return state.nextID
        }
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                enum Admission { case rejected(any Error), queued(startThread: Bool, wake: Int32?, needsTimer: Bool) }
                let admission = state.withLock { state -> Admission in
                    if let received = handedOver {
                        // Written by this caller, who read part of the answer: the I/O thread
                        // reads the rest (as for any request written, cancelling does not stop
                        // it); once closed, it may have run.
                        state.callerHoldsContext = false
                        if state.isClosed { return .rejected(Self.closedWhileWaiting) }
                        state.startFlight(Request(id: id, bytes: bytes, replies: replies, deadline: deadline, continuation: continuation, received: received))
                        return .queued(startThread: false, wake: state.takeWake(), needsTimer: false)
                    }
                    if state.isClosed { return .rejected(closedError) }
                    if Task.isCancelled { return .rejected(CancellationError()) }
                    let request = Request(id: id, bytes: bytes, replies: replies, deadline: deadline, continuation: continuation)
                    state.unsent.append(request)
                    let startThread = !state.threadStarted
                    state.threadStarted = true
                    let needsTimer = deadline.map { state.mayOutwait($0) } ?? false
                    // With requests in flight (or a caller's round trip), the I/O thread looks at the
                    // queue once they are answered.
                    let busy = !state.inFlight.isEmpty || state.callerHoldsContext
                    return .queued(startThread: startThread, wake: busy ? nil : state.takeWake(), needsTimer: needsTimer)
                }
                switch admission {
                case .rejected(let error):
                    continuation.resume(throwing: error)
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

    /// How long a caller alone on an idle connection waits for its reply on its own thread
    /// before handing the wait to the I/O thread: a round trip on a local network.
    static let inPlaceWait: Duration = .microseconds(250)

    /// Requests larger than this go through the I/O thread (they would not be written at once).
    static let inPlaceLimit = 64 << 10

    private enum InPlace {
        /// Every reply read.
        case answered([Result<RedisValue, RedisError>])
        /// Written, and the replies read so far: the I/O thread reads the rest (the caller still
        /// holds the context until it hands the request over).
        case handOver([Result<RedisValue, RedisError>])
        /// Nothing sent: the request goes the usual way.
        case notTaken
    }

    /// The round trip of a caller alone on an idle plain connection, without the I/O thread:
    /// one non-blocking `send`, then `poll` on the socket for at most ``inPlaceWait`` (and the
    /// deadline), reading the replies here. This spares the two thread hand-offs of a call
    /// answered by the I/O thread; a reply slower than the wait is handed over to it. A server
    /// that closed the idle connection is noticed before sending (nothing is sent); a failure
    /// after sending fails the call (it may have run) and the I/O thread drops the connection.
    private func answerInPlace(_ bytes: [UInt8], replies: Int, deadline: ContinuousClock.Instant?) throws(RedisError) -> InPlace {
        let start = ContinuousClock.now
        if let deadline, deadline <= start { return .notTaken }
        let claimed: HiredisContext? = state.withLock { state in
            guard !state.isClosed, !state.callerHoldsContext, state.inFlight.isEmpty, state.unsent.isEmpty,
                  let context = state.directContext else { return nil }
            state.callerHoldsContext = true
            return context
        }
        guard let context = claimed else { return .notTaken }
        let socket = context.socket
        let sent = context.peerClosed ? -1 : bytes.withUnsafeBytes { chr_send_nonblocking(socket, $0.baseAddress, $0.count) }
        if sent > 0, sent < bytes.count {
            // More than the socket takes at once: the I/O thread writes the rest and reads the replies.
            do {
                try context.appendEncoded(Array(bytes[sent...]))
                return .handOver([])
            } catch {
                // Part of the request went out: it may have run, and must not be sent again.
                giveUpContext()
                throw interrupter.isInterrupted
                    ? Self.closedWhileWaiting
                    : RedisError(error.code, "\(error.message); part of the request was written, so it may have run", mayHaveRun: true)
            }
        }
        if sent < bytes.count {
            // Closed by the server while idle, or failed before taking a byte: nothing was sent;
            // the I/O thread drops the connection and sends the request on a new one.
            giveUpContext()
            return .notTaken
        }
        var results: [Result<RedisValue, RedisError>] = []
        results.reserveCapacity(replies)
        let waitUntil = deadline.map { min($0, start + Self.inPlaceWait) } ?? start + Self.inPlaceWait
        do throws(RedisError) {
            while true {
                while results.count < replies, let result = try context.bufferedReply() { results.append(result) }
                if results.count == replies { break }
                let left = ContinuousClock.now.duration(to: waitUntil)
                guard left > .zero else { return .handOver(results) }
                var events: Int16 = 0
                let microseconds = left.components.seconds * 1_000_000 + left.components.attoseconds / 1_000_000_000_000 + 1
                if chr_wait_socket(socket, Int16(POLLIN), Int64(clamping: microseconds), &events) > 0 { try context.readAvailable() }
            }
        } catch {
            giveUpContext()
            // Closing the connection interrupts the wait: that is `.shutdown`, as for the I/O thread.
            throw interrupter.isInterrupted ? Self.closedWhileWaiting : error
        }
        let wake = state.withLock { state in
            state.callerHoldsContext = false
            return state.unsent.isEmpty ? nil : state.takeWake()
        }
        if let wake { chr_wake_signal(wake) }
        return .answered(results)
    }

    /// Returns a context a caller found broken or closed: the I/O thread drops it.
    private func giveUpContext() {
        let wake = state.withLock { state in
            state.callerHoldsContext = false
            state.closeDirectAccess()
            state.dropRequested = true
            return state.takeWake()
        }
        if let wake { chr_wake_signal(wake) }
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

    /// How many requests were written and wait for their replies on the I/O thread (for tests).
    var requestsInFlight: Int {
        state.withLock { $0.inFlight.count }
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

    /// The error of a request in flight when the connection is closed.
    private static let closedWhileWaiting = RedisError(.shutdown, "the connection was closed while waiting for the reply; the command may have run", mayHaveRun: true)

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
            defer { state.unsent.removeAll(); state.closeDirectAccess(); state.wake = nil }
            return (state.unsent, state.endFlight())
        }
        link.drop()
        for request in unsent { request.continuation.resume(throwing: closedError) }
        for request in inFlight { request.continuation.resume(throwing: Self.closedWhileWaiting) }
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
                let (hasUnsent, hasInFlight, callerHolds, dropRequested) = state.withLock { state in
                    defer { state.dropRequested = false }
                    return (!state.unsent.isEmpty, !state.inFlight.isEmpty, state.callerHoldsContext, state.dropRequested)
                }
                if dropRequested {
                    connection.logger.debug("the connection failed or the server closed it; dropping it")
                    link.drop()
                }
                if callerHolds {
                    sleep()
                } else if hasInFlight {
                    guard let context = link.current else {
                        failFlight(RedisError(.connectionClosed, "the connection was lost; the commands may have run", mayHaveRun: true), link: &link)
                        continue
                    }
                    readReplies(from: context, link: &link)
                } else if hasUnsent {
                    writeQueued(over: &link)
                } else {
                    sleep()
                }
            }
        }

        /// Sleeps until woken: new work, a request handed over, or the connection closed.
        private func sleep() {
            let idle = state.withLock { state in
                (state.unsent.isEmpty || state.callerHoldsContext) && state.inFlight.isEmpty && !state.isClosed && !state.dropRequested
            }
            guard idle else { return }
            if chr_wait_for_wake(wakeDescriptor) > 0 { drainWake() }
        }

        private func drainWake() {
            chr_wake_drain(wakeDescriptor)
            state.withLock { $0.wakePending = false }
        }

        /// Takes the queue, connects if needed, then puts the queue in flight: expired requests
        /// fail unsent, the rest go out in one write. Requests queued meanwhile wait for the next turn.
        private mutating func writeQueued(over link: inout ConnectionLink) {
            let batch = state.withLock { state in
                // No caller round trip while the context may be replaced.
                state.closeDirectAccess()
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
                    handOver += request.bytes
                }
                if context.isPlain && !connection.isDedicated { state.directContext = context }
                return (expired, handOver)
            }
            for request in expired {
                request.continuation.resume(throwing: RedisError(.timeout, "no reply within the command timeout: the command waited its whole time in the connection's queue and was never sent"))
            }
            do {
                try context.appendEncoded(handOver)
            } catch {
                failFlight(error, link: &link)
            }
        }

        /// Reads the replies of the oldest request in flight (blocking, up to its deadline; a
        /// close interrupts the read), and hands them over once all are in. Writes what hiredis
        /// holds first.
        private mutating func readReplies(from context: HiredisContext, link: inout ConnectionLink) {
            guard let request = state.withLock({ $0.inFlight.first }) else { return }
            if collected.isEmpty { collected = request.received }
            do {
                try link.limitReads(of: context, until: request.deadline)
                for _ in collected.count..<request.replies {
                    _ = deliver(try context.readReply())
                }
            } catch {
                failFlight(error, link: &link)
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
                ? RedisConnection.closedWhileWaiting
                : error
            if !interrupted { connection.logger.debug("connection failed, dropping it", metadata: ["error": "\(error)"]) }
            let failed = state.withLock { state in
                state.closeDirectAccess()
                return state.endFlight()
            }
            collected.removeAll()
            link.drop()
            for request in failed { request.continuation.resume(throwing: failure) }
        }
    }
}
