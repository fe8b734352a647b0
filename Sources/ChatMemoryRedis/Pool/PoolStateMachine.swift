/// The decisions of a connection pool, apart from its I/O: which connection carries a request,
/// which requests wait for room, and when a caller may make its round trip in place. A plain
/// value; ``ConnectionPool`` keeps it under a lock and carries out what it answers.
///
/// A slot is one request on one connection, from its grant until the request ends; each
/// connection has `capacity` slots. A request gets the least busy connection with room, or waits
/// in first-come, first-served order; a slot that frees up goes straight to the longest waiter,
/// on the thread that freed it (the connection's I/O thread, usually), so a waiting request moves
/// to the wire without any task having to run:
///
/// ```
///  submit ──> granted(connection) ─────────────────┐
///     └─────> waiting ──release (of any slot)──> granted ──release──> (the slot frees, or passes on)
///                └── withdraw (deadline, cancel), shutdown ──> failed, nothing sent
///  claimInPlace ──> granted (a lone caller, on an idle pool that has been quiet, not taking
///                   turns with other tasks; told to yield after its call once its run of
///                   round trips in place has lasted ``inPlaceRun``) ──release──>
/// ```
struct PoolStateMachine<Waiter> {
    enum Grant {
        /// The request holds a slot on this connection.
        case connection(Int)
        /// No room: it waits (the machine keeps `waiter`).
        case waiting
        /// The pool was shut down.
        case shutDown
    }

    /// Requests holding a slot, per connection.
    private(set) var load: [Int]
    private var waiters: [(id: UInt64, waiter: Waiter)] = []
    /// Where the oldest waiter is in `waiters` (they leave from the front).
    private var head = 0
    let capacity: Int
    private(set) var isShutdown = false
    /// When (in the injected clock's nanoseconds) a request last got a slot while another held one.
    private var overlappedAt: UInt64?
    /// How long after an overlap callers do not make their round trip in place.
    let quietPeriod: UInt64
    /// The task that last made its round trip in place, and when it claimed the slot.
    private var lastInPlace: (caller: Int, at: UInt64)?
    /// How soon after another task's round trip in place a claim counts as taking turns.
    let turnWindow: UInt64
    /// When the current run of round trips in place began: the first claim since the caller
    /// last yielded (or since another caller's).
    private var inPlaceRunStart: UInt64?
    /// How long a run of round trips in place may hold its caller's thread before the caller
    /// yields (a task calling again and again without suspending would keep it from other tasks).
    let inPlaceRun: UInt64

    /// `connections` connections with `capacity` slots each (both at least 1).
    init(connections: Int, capacity: Int, quietPeriod: UInt64 = 10_000_000, turnWindow: UInt64 = 1_000_000, inPlaceRun: UInt64 = 1_000_000) {
        load = Array(repeating: 0, count: max(1, connections))
        self.capacity = max(1, capacity)
        self.quietPeriod = quietPeriod
        self.turnWindow = turnWindow
        self.inPlaceRun = inPlaceRun
    }

    /// A slot granted for a round trip in place.
    struct InPlaceClaim: Equatable {
        /// The connection the slot is on.
        let connection: Int
        /// The caller yields once its call ends: its run of round trips in place has held its
        /// thread for ``PoolStateMachine/inPlaceRun`` (a yield costs a thread hop, so it is
        /// taken once per run, not once per call).
        let yieldsAfter: Bool
    }

    /// How many requests wait for a slot.
    var waiting: Int { waiters.count - head }

    /// How many slots are held.
    var slotsInUse: Int { load.reduce(0, +) }

    /// A request arrives at `now`: it gets a slot, or waits (first come, first served).
    mutating func submit(id: UInt64, waiter: Waiter, now: UInt64) -> Grant {
        if isShutdown { return .shutDown }
        if waiting == 0, let index = leastBusy() {
            take(index, now: now)
            return .connection(index)
        }
        waiters.append((id, waiter))
        return .waiting
    }

    /// A slot now, if one is free and nobody waits (for tests that fill the pool by hand).
    mutating func hold(now: UInt64) -> Int? {
        guard !isShutdown, waiting == 0, let index = leastBusy() else { return nil }
        take(index, now: now)
        return index
    }

    /// A slot for `caller` (its task) alone on the pool, to make its round trip in place: only
    /// when no slot is held, nobody waits, and no two requests overlapped for ``quietPeriod``
    /// (under concurrency, batching on the I/O threads carries more, and a caller waiting in place
    /// would hold a cooperative thread). Tasks that call one right after another, within
    /// ``turnWindow`` of each other's round trips, are concurrent callers taking turns on one
    /// thread, never overlapping: that counts as an overlap too. The claim that comes
    /// ``inPlaceRun`` or more after its run began yields after its call, and ends the run.
    mutating func claimInPlace(now: UInt64, caller: Int) -> InPlaceClaim? {
        guard !isShutdown, waiting == 0, slotsInUse == 0 else { return nil }
        if now < inPlaceRefusedUntil { return nil }
        if let lastInPlace, lastInPlace.caller != caller {
            if now &- lastInPlace.at <= turnWindow {
                overlappedAt = now
                return nil
            }
            inPlaceRunStart = nil
        }
        lastInPlace = (caller, now)
        take(0, now: now)
        let runStart = inPlaceRunStart ?? now
        let yieldsAfter = now &- runStart >= inPlaceRun
        inPlaceRunStart = yieldsAfter ? nil : runStart
        return InPlaceClaim(connection: 0, yieldsAfter: yieldsAfter)
    }

    /// Before this instant (in the injected clock), ``claimInPlace(now:caller:)`` refuses every
    /// caller: the quiet period after the last overlap. A pool can read it without its lock and
    /// skip a claim bound to fail.
    var inPlaceRefusedUntil: UInt64 {
        overlappedAt.map { $0 &+ quietPeriod &+ 1 } ?? 0
    }

    /// A request holding a slot on `connection` ended: the slot goes to the longest waiter
    /// (returned, with the connection it now holds), or frees up.
    mutating func release(_ connection: Int) -> (id: UInt64, waiter: Waiter)? {
        if waiting > 0 {
            let next = waiters[head]
            head += 1
            compact()
            return next
        }
        load[connection] -= 1
        return nil
    }

    /// Takes a waiter out of the queue (its deadline passed, or it was cancelled); `nil` when it
    /// holds a slot by now, or was never here.
    mutating func withdraw(_ id: UInt64) -> Waiter? {
        guard let index = waiters[head...].firstIndex(where: { $0.id == id }) else { return nil }
        let waiter = waiters.remove(at: index).waiter
        compact()
        return waiter
    }

    /// Refuses new requests and returns the waiters (they fail, nothing sent).
    mutating func shutdown() -> [Waiter] {
        isShutdown = true
        defer { waiters.removeAll(); head = 0 }
        return waiters[head...].map(\.waiter)
    }

    private mutating func take(_ index: Int, now: UInt64) {
        if slotsInUse > 0 { overlappedAt = now }
        load[index] += 1
    }

    private func leastBusy() -> Int? {
        guard let index = load.indices.min(by: { load[$0] < load[$1] }), load[index] < capacity else { return nil }
        return index
    }

    /// Drops the slots of waiters gone, once they are half the array.
    private mutating func compact() {
        if head == waiters.count {
            waiters.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32, head * 2 > waiters.count {
            waiters.removeFirst(head)
            head = 0
        }
    }
}
