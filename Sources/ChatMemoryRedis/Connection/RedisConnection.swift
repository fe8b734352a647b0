import CHiredis
import Foundation
import Logging
import Synchronization

/// One connection to Redis, served by a dedicated I/O thread so that hiredis's blocking calls
/// never run on Swift's cooperative thread pool or on an event loop.
///
/// Its decisions are a ``ConnectionStateMachine`` kept under a lock; this type carries out what
/// the machine answers: it starts and wakes the I/O thread, writes, reads, resumes callers. The
/// I/O thread writes every queued request as soon as it can (before reading the next reply), in
/// one write for all queued (automatic pipelining), and reads the replies in order; replies are
/// delivered to their callers' continuations as they are read (those already buffered together,
/// with one pool lock for all their slots), so no request of a connection waits for a cooperative
/// thread to be written or answered. When the connection breaks, the requests in
/// flight fail with the error and the next request reconnects, after a backoff if connecting
/// failed. Each request carries its caller's deadline: past it, a queued request is withdrawn
/// unsent, and a read in flight times out. In a pool, every request that ends frees its slot
/// through ``onRequestEnd`` on the thread that ended it.
///
/// A caller alone in its pool may instead make its round trip in place on an idle plain (not
/// TLS) connection (see ``roundTripInPlace(on:bytes:replies:deadline:)``): one non-blocking
/// `send`, then at most ``inPlaceWait`` waiting for the socket, which spares the two thread hand-offs.
///
/// The I/O thread blocks SIGPIPE for itself (the process-wide disposition is left alone), and a
/// caller's `send` asks the system not to raise it, so a write to a socket the server closed is
/// an error.
final class RedisConnection: Sendable {
    /// A batch of commands from one caller, answered in one continuation. A class: the machines
    /// move requests between queues, and a copy is one reference rather than every field's.
    final class Request: ConnectionRequest, Sendable {
        let id: UInt64
        /// The commands in RESP form (empty: read one reply the server sends unasked).
        let bytes: [UInt8]
        /// How many replies to read: one per command, or one with no command (a pushed message).
        let replies: Int
        let deadline: ContinuousClock.Instant?
        /// Resumed with the id of the connection that answered, and the replies.
        let continuation: CheckedContinuation<Answer, any Error>
        /// Replies its caller read before handing the rest of the wait to the I/O thread.
        let received: [Result<RedisValue, RedisError>]
        /// When (uptime, ns) it asked its pool for a slot: a wait for one is measured from here.
        let queuedAt: UInt64
        /// When it entered the client's queues (a pool's wait for a slot, or a connection's queue):
        /// a timeout before it was sent says how much of its time it still had then.
        let enqueued: ContinuousClock.Instant

        init(id: UInt64, bytes: [UInt8], replies: Int, deadline: ContinuousClock.Instant?,
             continuation: CheckedContinuation<Answer, any Error>, received: [Result<RedisValue, RedisError>] = [], queuedAt: UInt64 = 0) {
            self.id = id
            self.bytes = bytes
            self.replies = replies
            self.deadline = deadline
            self.continuation = continuation
            self.received = received
            self.queuedAt = queuedAt
            enqueued = .now
        }
    }

    typealias Machine = ConnectionStateMachine<Request, HiredisContext>
    typealias Answer = (connection: Int, replies: [Result<RedisValue, RedisError>])

    private struct State {
        var machine = Machine()
        /// The descriptors that wake the I/O thread (read, write), while it runs.
        var wake: (read: Int32, write: Int32)?
        /// Callers of ``close()`` waiting for the I/O thread to end.
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
        /// The I/O thread has done its last work (after the machine's exit step).
        var threadFinished = false
    }

    let id: Int
    /// A dedicated connection connects once and never reconnects: its state would be lost.
    let isDedicated: Bool
    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    private let logger: Logger
    private let metrics: ClientMetrics
    private let state = Locked(State())
    let interrupter = SocketInterrupter()
    /// Called with how many requests ended, just before their callers resume, on the thread that
    /// ended them, outside the lock (a pool frees their slots). Set before the first request.
    let onRequestEnd: (@Sendable (_ count: Int) -> Void)?

    /// No thread yet: it starts with the first request.
    init(id: Int, configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger,
         isDedicated: Bool = false, metrics: ClientMetrics = ClientMetrics(), onRequestEnd: (@Sendable (_ count: Int) -> Void)? = nil) {
        self.id = id
        self.isDedicated = isDedicated
        self.configuration = configuration
        self.credentialsProvider = credentialsProvider
        var logger = logger
        logger[metadataKey: "redis.connection"] = isDedicated ? "dedicated-\(id)" : "\(id)"
        logger[metadataKey: "redis.endpoint"] = "\(configuration.endpoint)"
        self.logger = logger
        self.metrics = metrics
        self.onRequestEnd = onRequestEnd
    }

    /// Ids for requests, unique in the process.
    private static let requestIDs = Atomic<UInt64>(0)

    static func nextRequestID() -> UInt64 {
        requestIDs.add(1, ordering: .relaxed).newValue
    }

    // MARK: - Requests

    /// Runs the commands as one pipeline on this connection (a dedicated one) and returns each
    /// command's result, in order. With no command, reads one reply the server sends unasked (a
    /// message after `SUBSCRIBE`). A request still queued at `deadline` is withdrawn unsent; one
    /// being read times out at `deadline`. Cancelling the task closes the connection, so a
    /// blocking read (`BLPOP k 0`, `receive()`) ends at once with `.shutdown`.
    func execute(_ commands: [RedisCommand], deadline: ContinuousClock.Instant?) async throws -> [Result<RedisValue, RedisError>] {
        if commands.contains(where: { $0.arguments.isEmpty }) { throw RedisError(.invalidCommand, "a command needs at least a name") }
        let id = Self.nextRequestID()
        let bytes = RESPEncoding.encode(commands)
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Answer, any Error>) in
                let request = Request(id: id, bytes: bytes, replies: commands.isEmpty ? 1 : commands.count, deadline: deadline, continuation: continuation)
                let admission = admit(request, isCancelled: Task.isCancelled)
                if case .queued(_, _, true) = admission, let deadline {
                    timer = Task { [self] in
                        do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                        if let request = withdraw(id) { endNeverSent([request]) }
                    }
                }
                carryOut(admission, of: request)
            }
        } onCancel: {
            if let request = withdraw(id) {
                end([request], throwing: CancellationError())
            } else if isDedicated {
                Task { await close() }
            }
        }.replies
    }

    /// Queues a request (state only: the caller holds its pool's lock); ``carryOut(_:of:)`` does
    /// the rest once the locks are released.
    func admit(_ request: Request, isCancelled: Bool) -> Machine.Admission {
        state.withLock { $0.machine.submit(request, isCancelled: isCancelled) }
    }

    /// Starts or wakes the I/O thread for an admitted request, or ends a refused one.
    func carryOut(_ admission: Machine.Admission, of request: Request) {
        switch admission {
        case .rejected(let rejection):
            end([request], throwing: rejection == .closed ? closedError : CancellationError())
        case .queued(let startThread, let wake, _):
            if startThread { self.startThread() }
            if wake { signalWake() }
        }
    }

    /// Takes a request still unsent out of the queue (its caller ends it); `nil` when it was written,
    /// ended or never here.
    func withdraw(_ id: UInt64) -> Request? {
        state.withLock { $0.machine.withdraw(id) }
    }

    // MARK: - The round trip in place

    /// How long a caller alone on an idle connection waits for its reply on its own thread
    /// before handing the wait to the I/O thread: a round trip on a local network.
    static let inPlaceWait: Duration = .microseconds(250)

    /// Requests larger than this go through the I/O thread (they would not be written at once).
    static let inPlaceLimit = 64 << 10

    enum InPlace {
        /// Every reply read.
        case answered([Result<RedisValue, RedisError>])
        /// Written, and the replies read so far: the caller still holds the context, and must
        /// ``handOver(_:)`` the request for the I/O thread to read the rest.
        case handOver([Result<RedisValue, RedisError>])
        /// Nothing sent: the request goes the usual way.
        case notTaken
    }

    /// Lends the context to a caller alone on an idle plain connection, or `nil`.
    func claimContext() -> HiredisContext? {
        state.withLock { $0.machine.claimContext() }
    }

    /// The round trip of a caller on a context it claimed: one non-blocking `send`, then a wait
    /// for the socket of at most ``inPlaceWait`` (and the deadline; see
    /// ``HiredisContext/waitReadable(until:)``), reading the replies here.
    /// A server that closed the idle connection is noticed before sending (nothing is sent); a
    /// failure after sending fails the call (it may have run) and the I/O thread drops the
    /// connection. Bounded: it never waits longer than ``inPlaceWait`` on the caller's thread.
    func roundTripInPlace(on context: HiredisContext, bytes: [UInt8], replies: Int, deadline: ContinuousClock.Instant?) throws(RedisError) -> InPlace {
        let start = ContinuousClock.now
        if let deadline, deadline <= start {
            returnContext(broken: false)
            return .notTaken
        }
        let sent = context.peerClosed ? -1 : bytes.withUnsafeBytes { chr_send_nonblocking(context.socket, $0.baseAddress, $0.count) }
        if sent > 0, sent < bytes.count {
            // More than the socket takes at once: the I/O thread writes the rest and reads the replies.
            do {
                try context.appendEncoded(Array(bytes[sent...]))
                return .handOver([])
            } catch {
                // Part of the request went out: it may have run, and must not be sent again.
                returnContext(broken: true)
                throw interrupter.isInterrupted
                    ? Self.closedWhileWaiting
                    : RedisError(error.code, "\(error.message); part of the request was written, so it may have run", mayHaveRun: true)
            }
        }
        if sent < bytes.count {
            // Closed by the server while idle, or failed before taking a byte: nothing was sent;
            // the I/O thread drops the connection and sends the request on a new one.
            returnContext(broken: true)
            return .notTaken
        }
        var results: [Result<RedisValue, RedisError>] = []
        results.reserveCapacity(replies)
        let waitUntil = deadline.map { min($0, start + Self.inPlaceWait) } ?? start + Self.inPlaceWait
        do throws(RedisError) {
            while true {
                while results.count < replies, let result = try context.bufferedReply() { results.append(result) }
                if results.count == replies { break }
                guard ContinuousClock.now < waitUntil else { return .handOver(results) }
                if context.waitReadable(until: waitUntil) { try context.readAvailable() }
            }
        } catch {
            returnContext(broken: true)
            // Closing the connection interrupts the wait: that is `.shutdown`, as for the I/O thread.
            throw interrupter.isInterrupted ? Self.closedWhileWaiting : error
        }
        returnContext(broken: false)
        return .answered(results)
    }

    /// Gives a claimed context back.
    private func returnContext(broken: Bool) {
        if state.withLock({ $0.machine.returnContext(broken: broken) }) { signalWake() }
    }

    /// Hands a request its caller wrote in place (and whose replies it began to read) to the I/O
    /// thread, which reads the rest. Once the connection is closed it fails at once (it may have run).
    func handOver(_ request: Request) {
        let (accepted, wake) = state.withLock { $0.machine.handOver(request) }
        if wake { signalWake() }
        if !accepted { end([request], throwing: Self.closedWhileWaiting) }
    }

    // MARK: - State for tests

    /// How many requests wait to be written (for tests that need to know a request is queued).
    var queuedRequests: Int {
        state.withLock { $0.machine.unsent.count }
    }

    /// How many requests were written and wait for their replies on the I/O thread (for tests).
    var requestsInFlight: Int {
        state.withLock { $0.machine.inFlight.count }
    }

    /// Whether the I/O thread is getting a context for queued requests (connecting, perhaps) or
    /// about to write them (for tests).
    var isPreparingWrite: Bool {
        state.withLock { $0.machine.writing }
    }

    /// Whether the I/O thread is reading the replies of its oldest request in flight: a request
    /// queued now stays unsent until they are read (for tests that need a request to wait queued).
    var isReading: Bool {
        state.withLock { $0.machine.reading }
    }

    /// Whether the I/O thread was started (for tests that count threads).
    var hasThread: Bool {
        state.withLock { $0.machine.threadStarted }
    }

    // MARK: - Closing

    /// Refuses new requests, fails the queued ones (never sent), interrupts a read or write in
    /// flight (it fails with `.shutdown`) and waits for the I/O thread to end, without holding a thread.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (wake, ended) = state.withLock { state -> (Bool?, Bool) in
                let wake = state.machine.close()
                let ended = !state.machine.threadStarted || state.threadFinished
                if !ended { state.closeWaiters.append(continuation) }
                return (wake, ended)
            }
            if let wake {
                interrupter.interrupt()
                if wake { signalWake() }
            }
            if ended { continuation.resume() }
        }
    }

    /// Closes as ``close()`` does, without waiting for the I/O thread to end.
    func closeWithoutWaiting() {
        guard let wake = state.withLock({ $0.machine.close() }) else { return }
        interrupter.interrupt()
        if wake { signalWake() }
    }

    /// The error of a request in flight when the connection is closed.
    static let closedWhileWaiting = RedisError(.shutdown, "the connection was closed while waiting for the reply; the command may have run", mayHaveRun: true)

    /// The error of a request whose deadline passed before it was written. How much of its time
    /// it still had when it entered the client's queues tells a connection that did not send it
    /// (all of it) from a call that reached the client late (little: its task waited to run, or
    /// routing took the rest).
    static func neverSentTimeout(_ request: Request, at now: ContinuousClock.Instant = .now) -> RedisError {
        RedisError(.timeout, "no reply within the command timeout: the command was never sent; " + queueWait(entered: request.enqueued, deadline: request.deadline, now: now))
    }

    /// `it reached the client's queue with 12 ms of its time left and waited there 12 ms`.
    static func queueWait(entered: ContinuousClock.Instant, deadline: ContinuousClock.Instant?, now: ContinuousClock.Instant) -> String {
        let waited = "waited there \(entered.duration(to: now).wholeMilliseconds) ms"
        guard let deadline else { return "it \(waited)" }
        let left = entered.duration(to: deadline)
        guard left > .zero else { return "it reached the client's queue after its deadline had passed" }
        return "it reached the client's queue with \(left.wholeMilliseconds) ms of its time left and \(waited)"
    }

    /// Ends requests whose deadline passed before they were written (see ``neverSentTimeout(_:at:)``).
    func endNeverSent(_ requests: [Request]) {
        guard !requests.isEmpty else { return }
        let now = ContinuousClock.now
        onRequestEnd?(requests.count)
        for request in requests { request.continuation.resume(throwing: Self.neverSentTimeout(request, at: now)) }
    }

    var closedError: RedisError {
        isDedicated
            ? RedisError(.shutdown, "the dedicated connection is closed (its withDedicatedConnection call returned, or the client was shut down)")
            : RedisError.clientShutDown
    }

    // MARK: - The I/O thread

    /// Signals the I/O thread, under the lock: its descriptor is closed under the lock too, so a
    /// late signal never reaches a descriptor the system has reused.
    private func signalWake() {
        state.withLock { state in
            if let descriptor = state.wake?.write { chr_wake_signal(descriptor) }
        }
    }

    /// Resumes requests that ended with `error` and frees their slots (``onRequestEnd``).
    func end(_ requests: [Request], throwing error: any Error) {
        guard !requests.isEmpty else { return }
        onRequestEnd?(requests.count)
        for request in requests { request.continuation.resume(throwing: error) }
    }

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
            let (queued, waiters) = state.withLock { state in
                defer { state.closeWaiters.removeAll() }
                let queued = state.machine.threadFailedToStart()
                return (queued, state.machine.isClosed ? state.closeWaiters : [])
            }
            end(queued, throwing: error)
            for waiter in waiters { waiter.resume() }
            return
        }
        state.withLock { $0.wake = (descriptors[0], descriptors[1]) }
        var link = ConnectionLink(configuration: configuration, credentialsProvider: credentialsProvider, logger: logger,
                                  reconnects: !isDedicated, interrupter: interrupter, metrics: metrics)
        var io = IOLoop(connection: self, wakeDescriptor: descriptors[0])
        io.run(over: &link)
        let waiters = state.withLock { state in
            defer { state.closeWaiters.removeAll(); state.wake = nil; state.threadFinished = true }
            chr_wake_close(&descriptors)
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The I/O thread's work, until the connection is closed: it asks the machine for the next
    /// step and does it.
    private struct IOLoop {
        let connection: RedisConnection
        let wakeDescriptor: Int32
        /// The replies read so far for the oldest request in flight.
        var collected: [Result<RedisValue, RedisError>] = []
        /// Requests answered by one read step, with their replies, until their callers resume.
        var answered: [(Request, [Result<RedisValue, RedisError>])] = []

        private var state: Locked<State> { connection.state }

        init(connection: RedisConnection, wakeDescriptor: Int32) {
            self.connection = connection
            self.wakeDescriptor = wakeDescriptor
        }

        mutating func run(over link: inout ConnectionLink) {
            while true {
                switch state.withLock({ $0.machine.nextStep() }) {
                case .exit(let unsent, let inFlight):
                    link.drop()
                    connection.end(unsent, throwing: connection.closedError)
                    connection.end(inFlight, throwing: RedisConnection.closedWhileWaiting)
                    return
                case .drop:
                    connection.logger.debug("the connection failed or the server closed it; dropping it")
                    link.drop()
                case .sleep:
                    if chr_wait_for_wake(wakeDescriptor) > 0 { chr_wake_drain(wakeDescriptor) }
                    state.withLock { $0.machine.woken() }
                case .write(let mayConnect, let connectBy):
                    write(over: &link, mayConnect: mayConnect, connectBy: connectBy)
                case .read(let oldest):
                    read(oldest, link: &link)
                }
            }
        }

        /// Gets a context (connecting if allowed, giving up at `connectBy`), then writes every
        /// queued request in one go; those past their deadline fail unsent.
        private mutating func write(over link: inout ConnectionLink, mayConnect: Bool, connectBy: ContinuousClock.Instant?) {
            let context: HiredisContext
            if mayConnect {
                do {
                    context = try link.usableContext(deadline: connectBy)
                } catch {
                    if ConnectionLink.gaveUpAtDeadline(error, connectBy) {
                        // Only the earliest deadlines ran out: those requests fail, the rest stay.
                        let expired = state.withLock { $0.machine.connectOutlasted(now: .now) }
                        connection.endNeverSent(expired)
                        return
                    }
                    let failed = state.withLock { $0.machine.connectFailed() }
                    connection.end(failed, throwing: connection.interrupter.isInterrupted ? connection.closedError : error)
                    return
                }
            } else {
                // Requests are in flight on the current context: they are written behind them, or
                // the flight fails with the context.
                guard let current = link.current, !current.isBroken else {
                    failFlight(RedisError(.connectionClosed, "the connection was lost; the commands may have run", mayHaveRun: true), link: &link)
                    return
                }
                context = current
            }
            let lendable = context.isPlain && !connection.isDedicated ? context : nil
            let (expired, batch) = state.withLock { $0.machine.takeBatch(now: .now, lendable: lendable) }
            connection.endNeverSent(expired)
            guard !batch.isEmpty else { return }
            var bytes: [UInt8] = []
            if batch.count == 1 {
                bytes = batch[0].bytes
            } else {
                bytes.reserveCapacity(batch.reduce(0) { $0 + $1.bytes.count })
                for request in batch { bytes += request.bytes }
            }
            do {
                try context.appendEncoded(bytes)
            } catch {
                failFlight(error, link: &link)
            }
        }

        /// Reads the replies of the oldest request in flight (blocking, up to its deadline; a
        /// close interrupts the read), then those of the requests behind it already in the read
        /// buffer (no wait); frees their slots together, then resumes their callers.
        private mutating func read(_ request: Request, link: inout ConnectionLink) {
            guard let context = link.current else {
                failFlight(RedisError(.connectionClosed, "the connection was lost; the commands may have run", mayHaveRun: true), link: &link)
                return
            }
            if collected.isEmpty { collected = request.received }
            do {
                try link.limitReads(of: context, until: request.deadline)
                while collected.count < request.replies { collected.append(try context.readReply()) }
            } catch {
                failFlight(error, link: &link)
                return
            }
            var failure: RedisError?
            while let (finished, next) = state.withLock({ state in state.machine.finishOldest().map { ($0, state.machine.inFlight.first) } }) {
                answered.append((finished, collected))
                collected = []
                // A request handed over with replies already read is always the oldest, never `next`.
                guard let next, next.received.isEmpty else { break }
                do {
                    while collected.count < next.replies, let result = try context.bufferedReply() { collected.append(result) }
                } catch {
                    failure = error
                    break
                }
                if collected.count < next.replies { break }
            }
            // The slots free before the callers resume: a caller's next call finds the pool as idle as it is.
            if !answered.isEmpty {
                connection.onRequestEnd?(answered.count)
                for (finished, results) in answered { finished.continuation.resume(returning: (connection.id, results)) }
                answered.removeAll(keepingCapacity: true)
            }
            if let failure { failFlight(failure, link: &link) }
        }

        /// The connection failed or timed out with requests in flight: it is dropped and they fail
        /// (they may have run). On a close, the error is `.shutdown`.
        private mutating func failFlight(_ error: RedisError, link: inout ConnectionLink) {
            let interrupted = connection.interrupter.isInterrupted
            if !interrupted { connection.logger.debug("connection failed, dropping it", metadata: ["error": "\(error)"]) }
            let failed = state.withLock { $0.machine.flightFailed() }
            collected.removeAll()
            link.drop()
            connection.end(failed, throwing: interrupted ? RedisConnection.closedWhileWaiting : error)
        }
    }
}
