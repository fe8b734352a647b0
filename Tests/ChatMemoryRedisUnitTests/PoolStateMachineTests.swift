@testable import ChatMemoryRedis
import Testing
import TestSupport

private typealias Pool = PoolStateMachine<UInt64>

/// The pool's decisions with no server and no clock (times are nanoseconds given by the test):
/// slots, first-come first-served waiting, hand-over of a freed slot, the quiet period for round
/// trips in place, then a seeded random walk through a million event sequences.
@Suite struct PoolStateMachineTests {
    @Test func requestsGoToTheLeastBusyConnectionThenWaitInOrder() {
        var pool = Pool(connections: 2, capacity: 2)
        var granted: [Int] = []
        for id in 1...4 {
            guard case .connection(let index) = pool.submit(id: UInt64(id), waiter: UInt64(id), now: 0) else { Issue.record("room for \(id)"); return }
            granted.append(index)
        }
        #expect(granted.sorted() == [0, 0, 1, 1])
        guard case .waiting = pool.submit(id: 5, waiter: 5, now: 0), case .waiting = pool.submit(id: 6, waiter: 6, now: 0) else {
            Issue.record("full: they wait"); return
        }
        #expect(pool.waiting == 2)
        // A freed slot passes to the longest waiter, on the same connection; the load stays.
        #expect(pool.release(1)?.waiter == 5)
        #expect(pool.load == [2, 2])
        #expect(pool.release(0)?.waiter == 6)
        #expect(pool.release(0) == nil)
        #expect(pool.load == [1, 2])
        // With room again, a newcomer takes it: nobody waits.
        guard case .connection(0) = pool.submit(id: 7, waiter: 7, now: 0) else { Issue.record("room on 0"); return }
    }

    @Test func aWaiterLeavesTheQueueOnItsDeadlineOrCancellation() {
        var pool = Pool(connections: 1, capacity: 1)
        _ = pool.submit(id: 1, waiter: 1, now: 0)
        _ = pool.submit(id: 2, waiter: 2, now: 0)
        _ = pool.submit(id: 3, waiter: 3, now: 0)
        #expect(pool.withdraw(2) == 2)
        #expect(pool.withdraw(2) == nil)
        #expect(pool.withdraw(1) == nil, "a request holding a slot is not waiting")
        #expect(pool.release(0)?.waiter == 3)
        #expect(pool.withdraw(3) == nil, "it holds the slot now")
    }

    @Test func shutdownFailsTheWaitersAndRefusesNewRequests() {
        var pool = Pool(connections: 1, capacity: 1)
        _ = pool.submit(id: 1, waiter: 1, now: 0)
        _ = pool.submit(id: 2, waiter: 2, now: 0)
        #expect(pool.shutdown() == [2])
        guard case .shutDown = pool.submit(id: 3, waiter: 3, now: 0) else { Issue.record("refused after shutdown"); return }
        #expect(pool.claimInPlace(now: 0, caller: 1) == nil)
        #expect(pool.release(0) == nil)
        #expect(pool.slotsInUse == 0)
    }

    @Test func aRoundTripInPlaceNeedsAnIdleQuietPool() {
        var pool = Pool(connections: 2, capacity: 4, quietPeriod: 1_000, turnWindow: 50)
        #expect(pool.claimInPlace(now: 0, caller: 7)?.connection == 0)
        #expect(pool.claimInPlace(now: 0, caller: 7) == nil, "a slot is held")
        _ = pool.release(0)
        // Two requests overlap at t = 100: no round trip in place until the quiet period is over.
        _ = pool.submit(id: 1, waiter: 1, now: 100)
        _ = pool.submit(id: 2, waiter: 2, now: 100)
        _ = pool.release(0)
        _ = pool.release(1)
        #expect(pool.inPlaceRefusedUntil == 1_101, "what a pool reads without its lock")
        #expect(pool.claimInPlace(now: 1_100, caller: 7) == nil)
        #expect(pool.claimInPlace(now: 1_101, caller: 7)?.connection == 0)
    }

    @Test func tasksTakingTurnsInPlaceCountAsOverlapping() {
        var pool = Pool(connections: 1, capacity: 4, quietPeriod: 1_000, turnWindow: 50)
        // One task calling again and again keeps its round trips in place.
        for now: UInt64 in [0, 10, 20] {
            #expect(pool.claimInPlace(now: now, caller: 1)?.connection == 0)
            _ = pool.release(0)
        }
        // Another task right after it: callers take turns on one thread, so they are concurrent.
        #expect(pool.claimInPlace(now: 30, caller: 2) == nil)
        #expect(pool.claimInPlace(now: 40, caller: 1) == nil, "an overlap: quiet for the quiet period")
        #expect(pool.claimInPlace(now: 1_031, caller: 1)?.connection == 0)
        _ = pool.release(0)
        // Another task long after: a lone caller again.
        #expect(pool.claimInPlace(now: 1_200, caller: 2)?.connection == 0)
    }

    /// A run of round trips in place holds its caller's thread for at most ``inPlaceRun`` before
    /// the call that ends the run yields; the next claim starts a new run, and so does another
    /// caller (a task calling long after this one).
    @Test func aRunOfRoundTripsInPlaceYieldsOnceItHasLastedItsTime() {
        var pool = Pool(connections: 1, capacity: 4, quietPeriod: 1_000, turnWindow: 50, inPlaceRun: 500)
        func claim(_ now: UInt64, caller: Int = 1) -> Bool? {
            guard let claim = pool.claimInPlace(now: now, caller: caller) else { return nil }
            _ = pool.release(claim.connection)
            return claim.yieldsAfter
        }
        #expect(claim(0) == false, "the run begins")
        #expect(claim(40) == false)
        #expect(claim(499) == false)
        #expect(claim(500) == true, "500 after the run began: yields, and the run ends")
        #expect(claim(540) == false, "a new run begins")
        #expect(claim(1_039) == false)
        #expect(claim(1_040) == true)
        // A call long after the run began, with no claim between: yields at once.
        #expect(claim(1_100) == false)
        #expect(claim(9_000) == true)
        // Another caller, long after: its own run.
        #expect(claim(9_100, caller: 2) == false)
        #expect(claim(9_599, caller: 2) == false)
        #expect(claim(9_600, caller: 2) == true)
        // No yield is asked of a refused claim.
        _ = pool.hold(now: 9_700)
        #expect(claim(9_800) == nil)
    }

    /// A million random sequences of submits, releases, withdrawals, round trips in place and
    /// shutdowns: no connection carries more than its capacity, a request waits only while every
    /// connection is full, waiters get slots in arrival order, and every request ends exactly once.
    @Test func aMillionRandomSequencesKeepEveryPromise() async {
        let failure = await onOwnThread { () -> String? in
            var random = SplitMix64(seed: 0x9001_5EED)
            for index in 0..<1_000_000 {
                let seed = random.next()
                if let failure = Self.walk(seed: seed) { return "sequence \(index), seed \(seed): \(failure)" }
            }
            return nil
        }
        #expect(failure == nil)
    }

    private static func walk(seed: UInt64) -> String? {
        var random = SplitMix64(seed: seed)
        let connections = 1 + Int(random.next() % 3)
        let capacity = 1 + Int(random.next() % 3)
        var pool = Pool(connections: connections, capacity: capacity, quietPeriod: 5, turnWindow: 3, inPlaceRun: 8)
        var holding: [(id: UInt64, connection: Int)] = []
        var waitingOrder: [UInt64] = []
        var ended: Set<UInt64> = []
        var nextID: UInt64 = 0
        var now: UInt64 = 0
        var lastInPlace: (caller: Int, at: UInt64)?
        var runStart: UInt64?
        for _ in 0..<(4 + Int(random.next() % 28)) {
            now += random.next() % 4
            switch random.next() % 10 {
            case 0..<4:
                nextID += 1
                switch pool.submit(id: nextID, waiter: nextID, now: now) {
                case .connection(let index):
                    if !waitingOrder.isEmpty { return "\(nextID) overtook waiters" }
                    holding.append((nextID, index))
                case .waiting:
                    if pool.load.contains(where: { $0 < capacity }) && waitingOrder.isEmpty { return "\(nextID) waits beside a free slot" }
                    waitingOrder.append(nextID)
                case .shutDown:
                    if !pool.isShutdown { return "refused while open" }
                    ended.insert(nextID)
                }
            case 4..<7:
                guard !holding.isEmpty else { continue }
                let done = holding.remove(at: Int(random.next() % UInt64(holding.count)))
                if !ended.insert(done.id).inserted { return "\(done.id) ended twice" }
                if let next = pool.release(done.connection) {
                    guard next.id == waitingOrder.first else { return "\(next.id) got a slot before \(waitingOrder.first ?? 0)" }
                    waitingOrder.removeFirst()
                    holding.append((next.id, done.connection))
                }
            case 7:
                guard nextID > 0 else { continue }
                let id = 1 + random.next() % nextID
                if let waiter = pool.withdraw(id) {
                    guard let index = waitingOrder.firstIndex(of: waiter) else { return "withdrew \(waiter), not waiting" }
                    waitingOrder.remove(at: index)
                    if !ended.insert(waiter).inserted { return "\(waiter) ended twice" }
                }
            case 8:
                nextID += 1
                let caller = Int(random.next() % 3)
                let refusedUntil = pool.inPlaceRefusedUntil
                if let claim = pool.claimInPlace(now: now, caller: caller) {
                    if now < refusedUntil { return "in place at \(now), refused until \(refusedUntil)" }
                    if !holding.isEmpty || !waitingOrder.isEmpty { return "in place beside other requests" }
                    if let last = lastInPlace, last.caller != caller, now - last.at <= 3 { return "in place taking turns with \(last.caller)" }
                    if lastInPlace?.caller != caller { runStart = nil }
                    let start = runStart ?? now
                    if claim.yieldsAfter != (now - start >= 8) { return "at \(now), a run begun at \(start): yields \(claim.yieldsAfter)" }
                    runStart = claim.yieldsAfter ? nil : start
                    lastInPlace = (caller, now)
                    holding.append((nextID, claim.connection))
                } else {
                    ended.insert(nextID)
                }
            default:
                if random.next() % 4 == 0 {
                    for waiter in pool.shutdown() {
                        guard let index = waitingOrder.firstIndex(of: waiter) else { return "shutdown failed \(waiter), not waiting" }
                        waitingOrder.remove(at: index)
                        ended.insert(waiter)
                    }
                }
            }
            if pool.load.contains(where: { $0 > capacity || $0 < 0 }) { return "load \(pool.load) beyond 0...\(capacity)" }
            if pool.slotsInUse != holding.count { return "\(pool.slotsInUse) slots for \(holding.count) holders" }
            if pool.waiting != waitingOrder.count { return "\(pool.waiting) waiting, expected \(waitingOrder.count)" }
            if pool.waiting > 0 && pool.load.contains(where: { $0 < capacity }) { return "waiters beside a free slot" }
        }
        // Wind down: every holder ends; every waiter then gets a slot in turn, or leaves at shutdown.
        for waiter in pool.shutdown() {
            waitingOrder.removeAll { $0 == waiter }
            ended.insert(waiter)
        }
        while let done = holding.popLast() {
            if !ended.insert(done.id).inserted { return "\(done.id) ended twice" }
            if pool.release(done.connection) != nil { return "a slot passed on after shutdown" }
        }
        if pool.slotsInUse != 0 { return "\(pool.slotsInUse) slots held after every request ended" }
        if ended.count != Int(nextID) { return "\(Int(nextID) - ended.count) requests never ended" }
        return nil
    }
}
