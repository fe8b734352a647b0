import Dispatch
import Logging
import Synchronization

/// A bounded set of connections shared by many tasks.
///
/// Each connection carries up to `maxPipelinedRequests` requests at once; a request goes to the
/// least busy connection. When every connection is full, requests wait in first-come,
/// first-served order, and a cancelled one leaves the queue at once. The decisions are a
/// ``PoolStateMachine``; a slot that frees up passes to the longest waiting request on the
/// thread that freed it (a connection's I/O thread), so waiting requests reach the wire without
/// any cooperative thread running: a process whose tasks are all busy still has its queued
/// commands sent and answered, and a reply that arrived in time counts as in time however late
/// its caller resumes.
final class ConnectionPool: Sendable {
    private struct State {
        var machine: PoolStateMachine<RedisConnection.Request>
        /// Connections lent to one caller each, closed by ``shutdown()`` if still open.
        var dedicated: [Int: RedisConnection] = [:]
        var nextDedicatedID = 0
    }

    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    let logger: Logger
    let connections: [RedisConnection]
    private let metrics: ClientMetrics
    private let state: Locked<State>
    /// The machine's ``PoolStateMachine/inPlaceRefusedUntil`` as of its last claim or grant: under
    /// concurrency a caller skips the claim (and the lock) until then.
    private let inPlaceRefusedUntil = Atomic<UInt64>(0)

    /// Makes a connection per `pool.size`; each starts its I/O thread with its first request.
    /// The configuration has passed ``RedisConfiguration/validate()``: size from 1 to 1024, at
    /// least 1 request per connection.
    init(configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger, metrics: ClientMetrics = ClientMetrics()) {
        let size = configuration.pool.size
        self.configuration = configuration
        self.credentialsProvider = credentialsProvider
        self.logger = logger
        self.metrics = metrics
        let owner = PoolReference()
        connections = (0..<size).map { index in
            RedisConnection(id: index, configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, metrics: metrics,
                            onRequestEnd: { owner.pool?.requestsEnded($0, on: index) })
        }
        state = Locked(State(machine: PoolStateMachine(connections: size, capacity: configuration.pool.maxPipelinedRequests)))
        owner.pool = self
    }

    deinit { stopThreadsOfDroppedClient() }

    /// Whether ``shutdown()`` ran.
    var isShutdown: Bool {
        state.withLock { $0.machine.isShutdown }
    }

    /// How many requests wait for a slot (for tests that need to know a caller is queued).
    var waitingCallers: Int {
        state.withLock { $0.machine.waiting }
    }

    /// How many connections have started their I/O thread (for tests that count threads).
    var startedThreads: Int {
        connections.reduce(0) { $0 + ($1.hasThread ? 1 : 0) }
    }

    /// The pooled connections (for tests that inspect a socket).
    var connectionsForTesting: [RedisConnection] { connections }

    /// How many requests hold a slot (for tests, likewise).
    var slotsInUse: Int {
        state.withLock { $0.machine.slotsInUse }
    }

    /// How many requests wait on the connections to be written (for tests, likewise).
    var queuedRequests: Int {
        connections.reduce(0) { $0 + $1.queuedRequests }
    }

    /// Runs the commands as one pipeline on one connection and returns that connection's id and
    /// each command's result. A request still waiting for a slot or in a connection's queue at
    /// `deadline` fails with `.timeout`, having sent nothing; one being read times out then.
    /// A caller alone on an idle, quiet pool makes its round trip in place.
    func execute(_ commands: [RedisCommand], deadline: ContinuousClock.Instant?) async throws -> RedisConnection.Answer {
        if commands.isEmpty || commands.contains(where: { $0.arguments.isEmpty }) {
            throw RedisError(.invalidCommand, "a command needs at least a name")
        }
        let bytes = RESPEncoding.encode(commands)
        var held: Int?
        var received: [Result<RedisValue, RedisError>]?
        if bytes.count <= RedisConnection.inPlaceLimit, let (index, context, yieldsAfter) = claimInPlace() {
            do {
                switch try connections[index].roundTripInPlace(on: context, bytes: bytes, replies: commands.count, deadline: deadline) {
                case .answered(let results):
                    requestEnded(on: index)
                    if yieldsAfter { await Task.yield() }
                    return (index, results)
                case .handOver(let replies):
                    received = replies
                case .notTaken:
                    break
                }
                held = index
            } catch {
                requestEnded(on: index)
                throw error
            }
        }
        let id = RedisConnection.nextRequestID()
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RedisConnection.Answer, any Error>) in
                let request = RedisConnection.Request(id: id, bytes: bytes, replies: commands.count, deadline: deadline, continuation: continuation,
                                                      received: received ?? [], queuedAt: DispatchTime.now().uptimeNanoseconds)
                if let held, received != nil {
                    // Written in place: the I/O thread reads the rest; cancelling cannot stop it.
                    connections[held].handOver(request)
                    return
                }
                let placement = place(request, holding: held)
                switch placement {
                case .admitted(let connection, let admission):
                    connections[connection].carryOut(admission, of: request)
                    if case .queued(_, _, true) = admission, let deadline { timer = expiry(of: id, at: deadline) }
                case .waiting:
                    if let deadline { timer = expiry(of: id, at: deadline) }
                case .shutDown:
                    continuation.resume(throwing: RedisError.clientShutDown)
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            withdraw(id, error: CancellationError())
        }
    }

    private enum Placement {
        case admitted(Int, RedisConnection.Machine.Admission)
        case waiting
        case shutDown
        /// The task was cancelled before its request was placed: nothing is queued.
        case cancelled
    }

    /// Gives a request a slot (or the one its caller holds) and queues it there, or has it wait.
    private func place(_ request: RedisConnection.Request, holding held: Int?) -> Placement {
        let isCancelled = Task.isCancelled
        let connection: Int
        if let held {
            connection = held
        } else {
            let grant: PoolStateMachine<RedisConnection.Request>.Grant? = state.withLock { state in
                // A cancelled task queues nothing: `nil` (or shutdown, which it is told first).
                if isCancelled { return state.machine.isShutdown ? .shutDown : nil }
                defer { inPlaceRefusedUntil.store(state.machine.inPlaceRefusedUntil, ordering: .relaxed) }
                return state.machine.submit(id: request.id, waiter: request, now: request.queuedAt)
            }
            switch grant {
            case .connection(let index): connection = index
            case .waiting: return .waiting
            case .shutDown: return .shutDown
            case nil: return .cancelled
            }
        }
        return .admitted(connection, connections[connection].admit(request, isCancelled: isCancelled))
    }

    /// A slot and its connection's context for a caller alone on a quiet pool, or `nil`.
    private func claimInPlace() -> (Int, HiredisContext, yieldsAfter: Bool)? {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now >= inPlaceRefusedUntil.load(ordering: .relaxed) else { return nil }
        let caller = withUnsafeCurrentTask { $0?.hashValue ?? 0 }
        return state.withLock { state in
            defer { inPlaceRefusedUntil.store(state.machine.inPlaceRefusedUntil, ordering: .relaxed) }
            guard let claim = state.machine.claimInPlace(now: now, caller: caller) else { return nil }
            guard let context = connections[claim.connection].claimContext() else {
                // Nobody waits (a claim needs an idle pool, and the lock is held): the slot frees.
                _ = state.machine.release(claim.connection)
                return nil
            }
            return (claim.connection, context, claim.yieldsAfter)
        }
    }

    /// A timer that fails the request if it still waits, unsent, at `deadline`.
    private func expiry(of id: UInt64, at deadline: ContinuousClock.Instant) -> Task<Void, Never> {
        Task { [self] in
            do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
            withdraw(id, error: nil)
        }
    }

    /// Fails a request that waits for a slot or in a connection's queue with `error` (`nil`: its
    /// deadline passed); one written is left alone.
    private func withdraw(_ id: UInt64, error: (any Error)?) {
        enum Found { case waiter(RedisConnection.Request), queued(Int, RedisConnection.Request) }
        let found: Found? = state.withLock { state in
            if let waiter = state.machine.withdraw(id) { return .waiter(waiter) }
            for connection in connections {
                if let request = connection.withdraw(id) { return .queued(connection.id, request) }
            }
            return nil
        }
        switch found {
        case .waiter(let request)?:
            recordWait(of: request)
            request.continuation.resume(throwing: error ?? RedisError(
                .timeout, "no connection became free within the command timeout; nothing was sent; "
                    + RedisConnection.queueWait(entered: request.enqueued, deadline: request.deadline, now: .now)))
        case .queued(let connection, let request)?:
            if let error {
                connections[connection].end([request], throwing: error)
            } else {
                connections[connection].endNeverSent([request])
            }
        case nil: break
        }
    }

    /// A request holding a slot on `connection` ended: see ``requestsEnded(_:on:)``.
    private func requestEnded(on connection: Int) {
        requestsEnded(1, on: connection)
    }

    /// `count` requests holding slots on `connection` ended: under one lock, each slot passes to
    /// the longest waiting request, which is queued on that connection at once, or frees up.
    private func requestsEnded(_ count: Int, on connection: Int) {
        var ended = count
        while ended > 0 {
            let granted: [(RedisConnection.Request, RedisConnection.Machine.Admission)] = state.withLock { state in
                var granted: [(RedisConnection.Request, RedisConnection.Machine.Admission)] = []
                for _ in 0..<ended {
                    guard let (_, waiter) = state.machine.release(connection) else { continue }
                    granted.append((waiter, connections[connection].admit(waiter, isCancelled: false)))
                }
                return granted
            }
            ended = 0
            for (request, admission) in granted {
                recordWait(of: request)
                if case .rejected = admission {
                    // Closed: that request ends too, and its slot passes on in turn.
                    request.continuation.resume(throwing: connections[connection].closedError)
                    ended += 1
                } else {
                    connections[connection].carryOut(admission, of: request)
                }
            }
        }
    }

    /// Runs `body` holding a slot that must be free now, as a request would (for tests that
    /// need a full pool); `.timeout` when none is.
    func holdingSlot<R: Sendable>(_ body: () async throws -> R) async throws -> R {
        let now = DispatchTime.now().uptimeNanoseconds
        guard let index = state.withLock({ $0.machine.hold(now: now) }) else { throw RedisError(.timeout, "no free slot") }
        defer { requestEnded(on: index) }
        return try await body()
    }

    /// Runs `body` with a new connection of its own, outside the pool's slots, and closes it
    /// afterwards (it is never reused, so no state it was given outlives `body`).
    func withDedicatedConnection<R: Sendable>(_ body: (RedisConnection) async throws -> R) async throws -> R {
        let opened: (id: Int, connection: RedisConnection)? = state.withLock { state in
            guard !state.machine.isShutdown else { return nil }
            state.nextDedicatedID &+= 1
            let connection = RedisConnection(id: state.nextDedicatedID, configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, isDedicated: true)
            state.dedicated[state.nextDedicatedID] = connection
            return (state.nextDedicatedID, connection)
        }
        guard let (id, connection) = opened else { throw RedisError.clientShutDown }
        let result: Result<R, any Error>
        do {
            result = .success(try await body(connection))
        } catch {
            result = .failure(error)
        }
        _ = state.withLock { $0.dedicated.removeValue(forKey: id) }
        await connection.close()
        return try result.get()
    }

    /// Refuses new work, fails the waiting requests, and closes every connection, dedicated ones
    /// too (queued requests fail unsent; reads in flight are interrupted).
    func shutdown() async {
        let (waiters, dedicated) = state.withLock { state in
            defer { state.dedicated.removeAll() }
            return (state.machine.shutdown(), Array(state.dedicated.values))
        }
        for waiter in waiters {
            recordWait(of: waiter)
            waiter.continuation.resume(throwing: RedisError.clientShutDown)
        }
        for connection in connections + dedicated { await connection.close() }
    }

    /// Records how long a request waited for a slot, once it has one or leaves the queue.
    private func recordWait(of request: RedisConnection.Request) {
        metrics.poolWaitEnded(after: .nanoseconds(Int64(clamping: DispatchTime.now().uptimeNanoseconds &- request.queuedAt)))
    }
}

/// The pool its connections free slots in; weak, so that a client dropped without `shutdown()`
/// is released (and its threads stopped). Set once, before any request.
private final class PoolReference: @unchecked Sendable {
    weak var pool: ConnectionPool?
}
