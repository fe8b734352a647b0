import Dispatch
import Logging
import Synchronization

/// A bounded set of connections shared by many tasks.
///
/// Each connection carries up to `maxPipelinedRequests` requests at once; a request goes to the
/// least busy connection. When every connection is full, callers wait in first-come, first-served
/// order, and a cancelled waiter leaves the queue at once.
final class ConnectionPool: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Int, any Error>
    }

    private struct State {
        var inFlight: [Int]
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isShutdown = false
        /// Connections lent to one caller each, closed by ``shutdown()`` if still open.
        var dedicated: [Int: RedisConnection] = [:]
        var nextDedicatedID = 0
    }

    private let configuration: RedisConfiguration
    private let credentialsProvider: RedisCredentialsProvider?
    let logger: Logger
    let connections: [RedisConnection]
    private let maxPipelinedRequests: Int
    private let metrics: ClientMetrics
    private let state: Locked<State>
    /// How many callers hold a slot, for the connections (a caller alone may skip the I/O thread).
    private let load: PoolLoad

    /// Makes a connection per `pool.size`; each starts its I/O thread with its first request.
    /// The configuration has passed ``RedisConfiguration/validate()``: size from 1 to 1024, at
    /// least 1 request per connection.
    init(configuration: RedisConfiguration, credentialsProvider: RedisCredentialsProvider? = nil, logger: Logger, metrics: ClientMetrics = ClientMetrics()) {
        let size = configuration.pool.size
        self.configuration = configuration
        self.credentialsProvider = credentialsProvider
        self.logger = logger
        self.metrics = metrics
        let load = PoolLoad()
        self.load = load
        connections = (0..<size).map { RedisConnection(id: $0, configuration: configuration, credentialsProvider: credentialsProvider, logger: logger, metrics: metrics, load: load) }
        maxPipelinedRequests = configuration.pool.maxPipelinedRequests
        state = Locked(State(inFlight: Array(repeating: 0, count: size)))
    }

    deinit { stopThreadsOfDroppedClient() }

    /// Whether ``shutdown()`` ran.
    var isShutdown: Bool {
        state.withLock { $0.isShutdown }
    }

    /// How many callers wait for a slot (for tests that need to know a caller is queued).
    var waitingCallers: Int {
        state.withLock { $0.waiters.count }
    }

    /// How many connections have started their I/O thread (for tests that count threads).
    var startedThreads: Int {
        connections.reduce(0) { $0 + ($1.hasThread ? 1 : 0) }
    }

    /// The pooled connections (for tests that inspect a socket).
    var connectionsForTesting: [RedisConnection] { connections }

    /// How many requests hold a slot (for tests, likewise).
    var slotsInUse: Int {
        state.withLock { $0.inFlight.reduce(0, +) }
    }

    /// How many requests wait on the connections to be written (for tests, likewise).
    var queuedRequests: Int {
        connections.reduce(0) { $0 + $1.queuedRequests }
    }

    /// Runs `body` with a connection slot held for its whole duration. A caller still waiting
    /// for a slot at `deadline` fails with `.timeout`, having sent nothing.
    func withConnection<R: Sendable>(deadline: ContinuousClock.Instant?, _ body: (RedisConnection) async throws -> R) async throws -> R {
        let index = try await acquire(deadline: deadline)
        defer { release(index) }
        return try await body(connections[index])
    }

    /// Runs `body` with a new connection of its own, outside the pool's slots, and closes it
    /// afterwards (it is never reused, so no state it was given outlives `body`).
    func withDedicatedConnection<R: Sendable>(_ body: (RedisConnection) async throws -> R) async throws -> R {
        let opened: (id: Int, connection: RedisConnection)? = state.withLock { state in
            guard !state.isShutdown else { return nil }
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

    /// Refuses new work, fails the waiters, and closes every connection, dedicated ones too
    /// (queued requests fail unsent; reads in flight are interrupted).
    func shutdown() async {
        let (waiters, dedicated) = state.withLock { state in
            state.isShutdown = true
            defer { state.waiters.removeAll(); state.dedicated.removeAll() }
            return (state.waiters, Array(state.dedicated.values))
        }
        for waiter in waiters { waiter.continuation.resume(throwing: RedisError.clientShutDown) }
        for connection in connections + dedicated { await connection.close() }
    }

    private func acquire(deadline: ContinuousClock.Instant?) async throws -> Int {
        enum Grant { case slot(Int), wait(UInt64) }
        let grant: Grant = try state.withLock { state in
            guard !state.isShutdown else { throw RedisError.clientShutDown }
            if state.waiters.isEmpty, let index = leastBusy(state.inFlight) {
                state.inFlight[index] += 1
                load.change(by: 1)
                return .slot(index)
            }
            state.nextWaiterID &+= 1
            return .wait(state.nextWaiterID)
        }
        switch grant {
        case .slot(let index): return index
        case .wait(let id):
            let started = ContinuousClock.now
            defer { metrics.poolWaitEnded(after: started.duration(to: .now)) }
            return try await waitForSlot(id: id, deadline: deadline)
        }
    }

    /// Queues the caller until a slot is handed over; a cancelled caller leaves the queue at once,
    /// and one still queued at `deadline` leaves it with `.timeout`.
    private func waitForSlot(id: UInt64, deadline: ContinuousClock.Instant?) async throws -> Int {
        let timer = deadline.map { deadline in
            Task { [self] in
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                leaveQueue(id, error: RedisError(.timeout, "no connection became free within the command timeout; nothing was sent"))
            }
        }
        defer { timer?.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let rejection: (any Error)? = state.withLock { state in
                    if state.isShutdown { return RedisError.clientShutDown }
                    if Task.isCancelled { return CancellationError() }
                    if let deadline, deadline <= .now {
                        return RedisError(.timeout, "no connection became free within the command timeout; nothing was sent")
                    }
                    // A slot may have freed up between the first look and now.
                    if state.waiters.isEmpty, let index = leastBusy(state.inFlight) {
                        state.inFlight[index] += 1
                        load.change(by: 1)
                        continuation.resume(returning: index)
                        return nil
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let rejection { continuation.resume(throwing: rejection) }
            }
        } onCancel: {
            leaveQueue(id, error: CancellationError())
        }
    }

    /// Fails a caller still waiting for a slot.
    private func leaveQueue(_ id: UInt64, error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let position = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: position)
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Hands the slot to the longest waiter, or frees it.
    private func release(_ index: Int) {
        let next: Waiter? = state.withLock { state in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.inFlight[index] -= 1
            load.change(by: -1)
            return nil
        }
        next?.continuation.resume(returning: index)
    }

    private func leastBusy(_ inFlight: [Int]) -> Int? {
        guard let index = inFlight.indices.min(by: { inFlight[$0] < inFlight[$1] }),
              inFlight[index] < maxPipelinedRequests else { return nil }
        return index
    }
}

/// How many callers hold a slot of a pool, read by its connections without the pool's lock, and
/// whether calls have overlapped lately.
final class PoolLoad: Sendable {
    private let holders = Atomic<Int>(0)
    /// When (uptime, ns) a caller last took a slot while another held one.
    private let overlappedAt = Atomic<UInt64>(0)
    private let callsInPlace = Atomic<Int>(0)

    /// How long after an overlap the pool's calls keep going through the I/O threads.
    static let quietPeriod: UInt64 = 10_000_000

    func change(by delta: Int) {
        let (_, held) = holders.add(delta, ordering: .relaxed)
        if delta > 0, held > 1 { overlappedAt.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    }

    /// Whether a caller may make its round trip in place: it alone holds a slot, and no call has
    /// overlapped another for ``quietPeriod`` (under concurrency, batching on the I/O threads
    /// carries more, and a caller waiting in place would hold a cooperative thread).
    var isQuiet: Bool {
        guard holders.load(ordering: .relaxed) == 1 else { return false }
        return DispatchTime.now().uptimeNanoseconds &- overlappedAt.load(ordering: .relaxed) > Self.quietPeriod
    }

    /// Counts a call answered in place; true for every 8th, after which the caller yields, so that
    /// a task calling in a loop never keeps other tasks from running for long.
    func answeredInPlace() -> Bool {
        callsInPlace.add(1, ordering: .relaxed).newValue % 8 == 0
    }
}
