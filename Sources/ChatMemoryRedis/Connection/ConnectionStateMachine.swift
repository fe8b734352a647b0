/// What a connection's requests need to tell its state machine.
protocol ConnectionRequest {
    var id: UInt64 { get }
    /// When the caller's whole call must be over; `nil`: no limit.
    var deadline: ContinuousClock.Instant? { get }
}

/// The decisions of one connection, apart from its I/O: which requests wait, which were
/// written, who may use the hiredis context, when the I/O thread must be woken, and how every
/// request ends. A plain value; ``RedisConnection`` keeps it under a lock, feeds it events and
/// carries out what it answers after unlocking.
///
/// Requests move one way and end exactly once:
///
/// ```
///  submit ──> unsent ──takeBatch──> inFlight ──finishOldest──> answered
///               │  └─ withdraw (deadline, cancel) ─> failed, never sent
///               └──── takeBatch (past its deadline), connectFailed, exit ──> failed, never sent
///                                   inFlight ── flightFailed, exit ──> failed, may have run
///  claimContext ──> (the caller's round trip) ──handOver──> inFlight
/// ```
///
/// The hiredis context has one user at every moment, given by ``access``: the I/O thread
/// (`.ioThread`), or a caller making its round trip in place (`.lent`). A context is lent only
/// while nothing waits and nothing is in flight, and only one the I/O thread declared lendable
/// (plain, shared) and has not started replacing since. The I/O thread asks ``nextStep()`` what to
/// do; each step moves the state as follows:
///
/// ```
///            ┌──────────────── exit (closed: fail everything; the thread ends)
///  nextStep ─┼─ drop           (a caller found the context broken)
///            ├─ sleep          (lent, or nothing to do: until woken)
///            ├─ write          (requests unsent, the first with a deadline no earlier than any in
///            │                  flight: connect if nothing is in flight, by the earliest deadline
///            │                  waiting, then takeBatch)
///            └─ read(oldest)   (the oldest request in flight: its replies, then finishOldest)
/// ```
///
/// The machine wakes the thread only when it sleeps (or is about to), once per sleep: a request
/// submitted while the thread reads or writes is seen on its next step.
struct ConnectionStateMachine<Request: ConnectionRequest, Context> {
    /// Who may use the hiredis context now.
    enum Access {
        /// The I/O thread (connecting, writing, reading, or idle with nothing to lend).
        case ioThread
        /// A caller making its round trip in place; the I/O thread leaves it alone.
        case lent(Context)
    }

    enum Rejection: Equatable {
        /// The connection was closed.
        case closed
        /// The caller's task was cancelled before anything was queued.
        case cancelled
    }

    enum Admission {
        case rejected(Rejection)
        /// Queued. `startThread`: the I/O thread must be started; `wake`: signalled;
        /// `needsTimer`: the request may still wait past its deadline when the thread comes to it
        /// (it waits behind a longer read, or a caller's round trip), so it needs a timer of its own.
        case queued(startThread: Bool, wake: Bool, needsTimer: Bool)
    }

    enum IOStep {
        /// Closed: fail these (never sent; and in flight: they may have run), drop the context and end.
        case exit(unsent: [Request], inFlight: [Request])
        /// Drop the context (a caller found it broken or closed by the server).
        case drop
        /// Wait for a wake-up, then call ``woken()``.
        case sleep
        /// Requests wait: get a context (connecting only when `mayConnect`: nothing is in flight
        /// on an old one then; a connect gives up at `connectBy`, the earliest deadline waiting,
        /// with its phases sharing that one limit), then ``takeBatch(now:lendable:)``, or
        /// ``connectFailed()``, or, when it gave up at `connectBy`, ``connectOutlasted(now:)``.
        case write(mayConnect: Bool, connectBy: ContinuousClock.Instant?)
        /// Read the replies of this request, the oldest in flight, then ``finishOldest()``.
        case read(Request)
    }

    private(set) var unsent: [Request] = []
    private(set) var inFlight: [Request] = []
    private(set) var access: Access = .ioThread
    private(set) var isClosed = false
    /// The I/O thread was started (it starts with the first request; after its exit step it
    /// never starts again: the connection is closed).
    private(set) var threadStarted = false
    /// The thread is asleep (or about to be), and whether a wake-up was sent since.
    private(set) var ioSleeping = false
    private(set) var wakePending = false
    /// The context the I/O thread holds, when a caller may borrow it.
    private var lendable: Context?
    /// A caller gave the context back broken: the thread drops it before anything else.
    private var dropRequested = false
    /// The thread is between a `write` step and ``takeBatch(now:lendable:)`` or ``connectFailed()``
    /// (connecting, perhaps).
    private(set) var writing = false
    /// The thread reads the replies of the oldest request in flight: from its `read` step until
    /// ``finishOldest()`` or ``flightFailed()``. Requests that arrive meanwhile stay unsent.
    private(set) var reading = false
    /// The write step may connect (nothing was in flight when it began), and when that connect
    /// gives up (`nil`: only the configured timeouts bound it).
    private var writeMayConnect = false
    private var connectBy: ContinuousClock.Instant?
    /// The latest deadline in flight, and whether one in flight has none.
    private var flightUntil: ContinuousClock.Instant?
    private var flightUnbounded = false

    // MARK: Callers

    /// A request arrives. `isCancelled`: its task is cancelled (it is refused, nothing queued).
    mutating func submit(_ request: Request, isCancelled: Bool) -> Admission {
        if isClosed { return .rejected(.closed) }
        if isCancelled { return .rejected(.cancelled) }
        let needsTimer = request.deadline.map(mayOutwait) ?? false
        unsent.append(request)
        let startThread = !threadStarted
        threadStarted = true
        // A caller's round trip ends with a look at the queue: no wake-up needed meanwhile.
        let lent = if case .lent = access { true } else { false }
        return .queued(startThread: startThread, wake: !lent && takeWake(), needsTimer: needsTimer)
    }

    /// Lends the context to a caller alone on an idle connection, or `nil`.
    mutating func claimContext() -> Context? {
        guard !isClosed, !dropRequested, !writing, unsent.isEmpty, inFlight.isEmpty,
              case .ioThread = access, let context = lendable else { return nil }
        access = .lent(context)
        return context
    }

    /// The caller's round trip is over: `broken` when the context failed or the server had closed
    /// it (the thread drops it). True when the thread must be woken: for that, or for requests
    /// queued meanwhile (a quiet return costs no wake-up).
    mutating func returnContext(broken: Bool) -> Bool {
        guard case .lent(let context) = access else { return false }
        access = .ioThread
        if broken {
            lendable = nil
            dropRequested = true
        } else {
            lendable = context
        }
        return (broken || !unsent.isEmpty) && takeWake()
    }

    /// The caller wrote `request` on the lent context and leaves the rest of the wait to the
    /// thread: it goes in flight (`false` once closed: it fails, it may have run). The second value:
    /// whether to wake the thread.
    mutating func handOver(_ request: Request) -> (accepted: Bool, wake: Bool) {
        guard case .lent = access else { return (false, false) }
        access = .ioThread
        if isClosed { return (false, false) }
        startFlight(request)
        return (true, takeWake())
    }

    /// Fails a request still unsent (a deadline or a cancellation); `nil` when it was written,
    /// ended or never here.
    mutating func withdraw(_ id: UInt64) -> Request? {
        guard let index = unsent.firstIndex(where: { $0.id == id }) else { return nil }
        return unsent.remove(at: index)
    }

    /// Refuses new requests; the thread fails what is left. `nil` when already closed; else
    /// whether to wake the thread.
    mutating func close() -> Bool? {
        guard !isClosed else { return nil }
        isClosed = true
        return takeWake()
    }

    /// The thread could not start (no descriptor to wake it): every unsent request fails, and the
    /// next request starts a thread again.
    mutating func threadFailedToStart() -> [Request] {
        threadStarted = false
        defer { unsent.removeAll() }
        return unsent
    }

    // MARK: The I/O thread

    /// What the thread does next.
    mutating func nextStep() -> IOStep {
        if isClosed {
            lendable = nil
            let ended = (unsent, inFlight)
            unsent.removeAll()
            endFlight()
            if case .lent = access {} else { access = .ioThread }
            return .exit(unsent: ended.0, inFlight: ended.1)
        }
        if dropRequested {
            dropRequested = false
            lendable = nil
            return .drop
        }
        if case .lent = access { return sleep() }
        if let first = unsent.first, canWriteBehindFlight(first) {
            writing = true
            writeMayConnect = inFlight.isEmpty
            connectBy = writeMayConnect ? earliestUnsentDeadline : nil
            // It may replace the context: nothing is lent until the batch is written.
            lendable = nil
            return .write(mayConnect: writeMayConnect, connectBy: connectBy)
        }
        if let oldest = inFlight.first {
            reading = true
            return .read(oldest)
        }
        return sleep()
    }

    /// The thread woke up.
    mutating func woken() {
        ioSleeping = false
        wakePending = false
    }

    /// Connecting failed: every unsent request fails (nothing was sent).
    mutating func connectFailed() -> [Request] {
        writing = false
        defer { unsent.removeAll() }
        return unsent
    }

    /// The connect gave up at `connectBy`, the earliest deadline waiting, which says nothing
    /// about the server: the requests whose deadline passed by `now` fail (never sent); the
    /// rest wait for the next write step, whose connect gives up at their earliest deadline.
    mutating func connectOutlasted(now: ContinuousClock.Instant) -> [Request] {
        writing = false
        var expired: [Request] = []
        unsent.removeAll { request in
            guard let deadline = request.deadline, deadline <= now else { return false }
            expired.append(request)
            return true
        }
        return expired
    }

    /// Puts the unsent requests in flight (to be written now, in this order), but those past their
    /// deadline at `now`, which fail unsent. Behind requests already in flight, only the first
    /// requests whose deadlines are no earlier than those ahead go (see
    /// ``canWriteBehindFlight(_:)``); the rest wait for the flight to end. `lendable`: the
    /// context, when callers may borrow it once the connection is idle.
    mutating func takeBatch(now: ContinuousClock.Instant, lendable context: Context?) -> (expired: [Request], batch: [Request]) {
        writing = false
        lendable = context
        var expired: [Request] = []
        var batch: [Request] = []
        var taken = 0
        for request in unsent {
            if let deadline = request.deadline, deadline <= now {
                expired.append(request)
            } else if canWriteBehindFlight(request) {
                batch.append(request)
                startFlight(request)
            } else {
                break
            }
            taken += 1
        }
        unsent.removeFirst(taken)
        return (expired, batch)
    }

    /// Every reply of the oldest request in flight was read: it ends.
    mutating func finishOldest() -> Request? {
        reading = false
        guard !inFlight.isEmpty else { return nil }
        let oldest = inFlight.removeFirst()
        if inFlight.isEmpty { endFlight() }
        return oldest
    }

    /// Reading or writing failed (or timed out): the context is dropped and every request in
    /// flight fails (they may have run).
    mutating func flightFailed() -> [Request] {
        writing = false
        reading = false
        lendable = nil
        defer { endFlight() }
        return inFlight
    }

    // MARK: Helpers

    /// Whether `request` may be written now: always on an idle connection; behind requests in
    /// flight only when its deadline is no earlier than theirs. Replies come in order and each
    /// read waits up to its own request's deadline, so a request written behind a later deadline
    /// could not time out at its own; unwritten, its timer withdraws it in time.
    private func canWriteBehindFlight(_ request: Request) -> Bool {
        guard !inFlight.isEmpty else { return true }
        guard let deadline = request.deadline else { return true }
        return !flightUnbounded && (flightUntil.map { $0 <= deadline } ?? true)
    }

    /// Whether a request queued now, with `deadline`, may still wait when the thread comes to it:
    /// behind a caller's round trip (which may be handed over and then outlast any deadline), a
    /// write step whose connect may go on past it (it gives up at `connectBy`), a request
    /// queued ahead with a later or no deadline (once written, it holds this one back until its
    /// read ends), or a read that may last longer.
    private func mayOutwait(_ deadline: ContinuousClock.Instant) -> Bool {
        if case .lent = access { return true }
        if writing && writeMayConnect && (connectBy.map { $0 > deadline } ?? true) { return true }
        if unsent.contains(where: { $0.deadline.map { $0 > deadline } ?? true }) { return true }
        guard !inFlight.isEmpty else { return false }
        return flightUnbounded || (flightUntil.map { $0 > deadline } ?? true)
    }

    /// Whether to signal the thread: it sleeps and no signal is on its way; then one is.
    private mutating func takeWake() -> Bool {
        guard ioSleeping, !wakePending else { return false }
        wakePending = true
        return true
    }

    /// The earliest deadline of the requests waiting: a connect for them may take no longer.
    private var earliestUnsentDeadline: ContinuousClock.Instant? {
        var earliest: ContinuousClock.Instant?
        for request in unsent {
            if let deadline = request.deadline, earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        return earliest
    }

    private mutating func sleep() -> IOStep {
        ioSleeping = true
        return .sleep
    }

    private mutating func startFlight(_ request: Request) {
        inFlight.append(request)
        if let deadline = request.deadline {
            flightUntil = max(flightUntil ?? deadline, deadline)
        } else {
            flightUnbounded = true
        }
    }

    private mutating func endFlight() {
        inFlight.removeAll(keepingCapacity: true)
        flightUntil = nil
        flightUnbounded = false
    }
}
