@testable import ChatMemoryRedis
import Testing
import TestSupport

/// A request as the machine sees it; `clock` instants are made from a fixed origin.
private struct Probe: ConnectionRequest {
    let id: UInt64
    let deadline: ContinuousClock.Instant?
}

/// A context token: the machine only hands it around.
private final class Token {}

private typealias Machine = ConnectionStateMachine<Probe, Token>

private let origin = ContinuousClock.now

private func at(_ milliseconds: Int) -> ContinuousClock.Instant { origin + .milliseconds(milliseconds) }

/// The connection's decisions, event by event, with no server, no thread and no clock: each
/// interleaving the hostile connection tests exercise against live servers, then a seeded random
/// walk through a million event sequences checking the machine's promises after every step.
@Suite struct ConnectionStateMachineTests {
    /// Drives the machine the way its I/O thread does after a first request: start, write, read.
    private func writeAndAnswer(_ machine: inout Machine, lendable: Token? = Token()) -> [Probe] {
        guard case .write(true, _) = machine.nextStep() else { Issue.record("expected a write with connect"); return [] }
        let (expired, batch) = machine.takeBatch(now: at(0), lendable: lendable)
        #expect(expired.isEmpty)
        var answered: [Probe] = []
        for request in batch {
            guard case .read(let oldest) = machine.nextStep() else { Issue.record("expected a read"); return answered }
            #expect(oldest.id == request.id)
            if let finished = machine.finishOldest() { answered.append(finished) }
        }
        return answered
    }

    @Test func theFirstRequestStartsTheThreadAndIsWrittenThenAnswered() {
        var machine = Machine()
        guard case .queued(true, false, false) = machine.submit(Probe(id: 1, deadline: at(100)), isCancelled: false) else {
            Issue.record("the first request must start the thread, without a wake-up or a timer"); return
        }
        #expect(writeAndAnswer(&machine).map(\.id) == [1])
        guard case .sleep = machine.nextStep() else { Issue.record("an idle thread sleeps"); return }
        #expect(machine.ioSleeping)
    }

    @Test func aRequestForASleepingThreadWakesItOnce() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        guard case .queued(false, true, false) = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false) else {
            Issue.record("a sleeping thread must be woken"); return
        }
        guard case .queued(false, false, false) = machine.submit(Probe(id: 3, deadline: nil), isCancelled: false) else {
            Issue.record("one wake-up per sleep"); return
        }
        machine.woken()
        guard case .write(true, _) = machine.nextStep() else { Issue.record("woken, it writes"); return }
        #expect(machine.takeBatch(now: at(0), lendable: nil).batch.map(\.id) == [2, 3])
    }

    @Test func requestsQueuedDuringAFlightAreWrittenBeforeTheNextRead() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        guard case .read = machine.nextStep() else { Issue.record("reads the first"); return }
        // The thread is reading: no wake-up; it writes the newcomer before reading again.
        guard case .queued(false, false, _) = machine.submit(Probe(id: 3, deadline: nil), isCancelled: false) else {
            Issue.record("no wake-up while reading"); return
        }
        _ = machine.finishOldest()
        guard case .write(false, _) = machine.nextStep() else { Issue.record("writes behind the flight, without connecting"); return }
        #expect(machine.takeBatch(now: at(0), lendable: nil).batch.map(\.id) == [3])
        guard case .read(let oldest) = machine.nextStep(), oldest.id == 2 else { Issue.record("then reads the second"); return }
    }

    @Test func aRequestWithAnEarlierDeadlineIsNotWrittenBehindTheFlight() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(1_000)), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        // 2 could not time out at its own deadline behind 1's read: it stays unsent (its timer
        // withdraws it); 3, queued behind it, waits its turn.
        _ = machine.submit(Probe(id: 2, deadline: at(500)), isCancelled: false)
        _ = machine.submit(Probe(id: 3, deadline: at(2_000)), isCancelled: false)
        guard case .read(let oldest) = machine.nextStep(), oldest.id == 1 else { Issue.record("reads 1 first"); return }
        #expect(machine.withdraw(2)?.id == 2)
        guard case .write(false, _) = machine.nextStep() else { Issue.record("3 goes behind the flight"); return }
        #expect(machine.takeBatch(now: at(0), lendable: nil).batch.map(\.id) == [3])
    }

    @Test func aRequestWithAnEarlierDeadlineThanTheFlightGetsATimer() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(1_000)), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        guard case .queued(_, _, true) = machine.submit(Probe(id: 2, deadline: at(500)), isCancelled: false) else {
            Issue.record("behind a longer read it needs a timer"); return
        }
        guard case .queued(_, _, false) = machine.submit(Probe(id: 3, deadline: at(2_000)), isCancelled: false) else {
            Issue.record("behind a shorter read it does not"); return
        }
        // Behind a read with no deadline, every deadline needs a timer.
        var unbounded = Machine()
        _ = unbounded.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = unbounded.nextStep()
        _ = unbounded.takeBatch(now: at(0), lendable: nil)
        guard case .queued(_, _, true) = unbounded.submit(Probe(id: 2, deadline: at(10_000)), isCancelled: false) else {
            Issue.record("behind an unbounded read it needs a timer"); return
        }
    }

    @Test func aDeadlinePassedWhileQueuedFailsUnsentAtTheWrite() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(10)), isCancelled: false)
        _ = machine.submit(Probe(id: 2, deadline: at(1_000)), isCancelled: false)
        _ = machine.nextStep()
        let (expired, batch) = machine.takeBatch(now: at(10), lendable: nil)
        #expect(expired.map(\.id) == [1])
        #expect(batch.map(\.id) == [2])
    }

    @Test func cancellationBeforeTheWriteWithdrawsAndAfterItDoesNot() {
        var machine = Machine()
        guard case .rejected(.cancelled) = machine.submit(Probe(id: 1, deadline: nil), isCancelled: true) else {
            Issue.record("a cancelled task queues nothing"); return
        }
        _ = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false)
        #expect(machine.withdraw(2)?.id == 2)
        #expect(machine.withdraw(2) == nil)
        _ = machine.submit(Probe(id: 3, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        #expect(machine.withdraw(3) == nil, "a written request runs to completion")
        #expect(machine.inFlight.map(\.id) == [3])
    }

    @Test func aRequestQueuedWhileTheThreadConnectsCanStillBeWithdrawn() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(100)), isCancelled: false)
        guard case .write(true, _) = machine.nextStep() else { Issue.record("connects first"); return }
        // A connect may take long: a request that arrives now needs a timer, and either stays
        // withdrawable (cancelled or timed out) until the batch is taken.
        guard case .queued(false, false, true) = machine.submit(Probe(id: 2, deadline: at(50)), isCancelled: false) else {
            Issue.record("queued during a connect: a timer, no wake-up"); return
        }
        #expect(machine.withdraw(1)?.id == 1)
        #expect(machine.withdraw(2)?.id == 2)
        let (expired, batch) = machine.takeBatch(now: at(0), lendable: nil)
        #expect(expired.isEmpty && batch.isEmpty)
        guard case .sleep = machine.nextStep() else { Issue.record("nothing left: it sleeps"); return }
    }

    @Test func aRequestNeedsATimerOnlyWhenSomethingAheadMayOutlastIt() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(100)), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        _ = machine.submit(Probe(id: 2, deadline: at(200)), isCancelled: false)
        guard case .write(false, _) = machine.nextStep() else { Issue.record("writes behind the flight"); return }
        // A write step behind a flight never connects: only what is ahead counts.
        guard case .queued(false, false, false) = machine.submit(Probe(id: 3, deadline: at(300)), isCancelled: false) else {
            Issue.record("no earlier than everything ahead: no timer"); return
        }
        guard case .queued(false, false, true) = machine.submit(Probe(id: 4, deadline: at(250)), isCancelled: false) else {
            Issue.record("queued behind a later deadline, it waits for that one's read: a timer"); return
        }
        _ = machine.submit(Probe(id: 5, deadline: nil), isCancelled: false)
        guard case .queued(false, false, true) = machine.submit(Probe(id: 6, deadline: at(10_000)), isCancelled: false) else {
            Issue.record("queued behind a request with no deadline: a timer"); return
        }
        let (expired, batch) = machine.takeBatch(now: at(0), lendable: nil)
        #expect(expired.isEmpty)
        #expect(batch.map(\.id) == [2, 3], "4 waits behind 3's later deadline, and 5 and 6 behind 4")
        #expect(machine.unsent.map(\.id) == [4, 5, 6])

        // A write step with nothing in flight may connect; the connect gives up at the earliest
        // deadline waiting, so only a request with an earlier one may outwait it.
        var connecting = Machine()
        _ = connecting.submit(Probe(id: 1, deadline: at(2_000)), isCancelled: false)
        _ = connecting.submit(Probe(id: 2, deadline: at(1_000)), isCancelled: false)
        guard case .write(true, at(1_000)) = connecting.nextStep() else { Issue.record("connects by the earliest deadline"); return }
        guard case .queued(false, false, false) = connecting.submit(Probe(id: 3, deadline: at(5_000)), isCancelled: false) else {
            Issue.record("later than the connect's limit, and nothing ahead with a later one: no timer"); return
        }
        for id: UInt64 in 1...3 { _ = connecting.withdraw(id) }
        guard case .queued(false, false, true) = connecting.submit(Probe(id: 4, deadline: at(999)), isCancelled: false) else {
            Issue.record("earlier than the connect's limit: a timer"); return
        }

        // With no deadline waiting, only the configured timeouts bound the connect: any deadline needs a timer.
        var unbounded = Machine()
        _ = unbounded.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        guard case .write(true, nil) = unbounded.nextStep() else { Issue.record("connects without a limit"); return }
        _ = unbounded.withdraw(1)
        guard case .queued(false, false, true) = unbounded.submit(Probe(id: 2, deadline: at(5_000)), isCancelled: false) else {
            Issue.record("during a connect with no limit: a timer"); return
        }
    }

    @Test func aConnectThatGaveUpAtTheEarliestDeadlineFailsOnlyTheRequestsPastTheirs() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(100)), isCancelled: false)
        _ = machine.submit(Probe(id: 2, deadline: at(100)), isCancelled: false)
        _ = machine.submit(Probe(id: 3, deadline: at(5_000)), isCancelled: false)
        _ = machine.submit(Probe(id: 4, deadline: nil), isCancelled: false)
        guard case .write(true, at(100)) = machine.nextStep() else { Issue.record("connects by the earliest deadline"); return }
        #expect(machine.connectOutlasted(now: at(100)).map(\.id) == [1, 2])
        #expect(machine.unsent.map(\.id) == [3, 4], "the others wait for the next connect")
        guard case .write(true, at(5_000)) = machine.nextStep() else { Issue.record("connects again, by the next deadline"); return }
        let (expired, batch) = machine.takeBatch(now: at(200), lendable: nil)
        #expect(expired.isEmpty && batch.map(\.id) == [3, 4])
    }

    @Test func aDeadlineWhileQueuedBehindARoundTripInPlaceNeedsNoWakeUpOnTheReturn() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() != nil)
        guard case .queued(_, false, true) = machine.submit(Probe(id: 2, deadline: at(5)), isCancelled: false) else {
            Issue.record("behind a round trip in place: a timer"); return
        }
        #expect(machine.withdraw(2)?.id == 2, "its timer withdraws it")
        let wakes = machine.returnContext(broken: false)
        #expect(!wakes, "nothing left to write")
    }

    @Test func aWrittenRequestEndsOnlyByItsRepliesOrAFailedFlight() {
        // The machine keeps no clock for reads: the I/O layer bounds a read by the request's
        // deadline and reports a timeout as a failed flight. A reply read in time is delivered
        // however late the caller resumes.
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: at(10)), isCancelled: false)
        _ = machine.submit(Probe(id: 2, deadline: at(10)), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        #expect(machine.withdraw(1) == nil && machine.withdraw(2) == nil)
        #expect(machine.finishOldest()?.id == 1)
        #expect(machine.flightFailed().map(\.id) == [2])
        #expect(machine.finishOldest() == nil)
    }

    @Test func aSpuriousWakeUpChangesNothing() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        guard case .sleep = machine.nextStep() else { Issue.record("sleeps"); return }
        machine.woken()   // EINTR
        guard case .sleep = machine.nextStep() else { Issue.record("sleeps again"); return }
        guard case .queued(false, true, false) = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false) else {
            Issue.record("and is woken for the next request"); return
        }
    }

    @Test func aContextIsLentOnlyWhenIdleAndLendable() {
        var machine = Machine()
        #expect(machine.claimContext() == nil, "nothing connected yet")
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        #expect(machine.claimContext() == nil, "the thread may be replacing the context")
        let token = Token()
        _ = machine.takeBatch(now: at(0), lendable: token)
        #expect(machine.claimContext() == nil, "a request is in flight")
        _ = machine.nextStep()
        _ = machine.finishOldest()
        #expect(machine.claimContext() === token)
        #expect(machine.claimContext() == nil, "one borrower at a time")
        guard case .sleep = machine.nextStep() else { Issue.record("while lent the thread leaves the context alone"); return }
        // A request queued meanwhile waits for the return, which wakes the thread; a quiet return does not.
        guard case .queued(false, false, true) = machine.submit(Probe(id: 2, deadline: at(5)), isCancelled: false) else {
            Issue.record("queued behind a round trip: no wake-up yet, a timer"); return
        }
        let wakes = machine.returnContext(broken: false)
        #expect(wakes)
        machine.woken()
        guard case .write = machine.nextStep() else { Issue.record("then it writes"); return }
        _ = machine.takeBatch(now: at(0), lendable: token)
        _ = machine.nextStep()
        _ = machine.finishOldest()
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() === token)
        let quietReturnWakes = machine.returnContext(broken: false)
        #expect(!quietReturnWakes, "a quiet return costs no wake-up")
        // Dedicated and TLS connections lend nothing.
        var unlendable = Machine()
        _ = unlendable.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&unlendable, lendable: nil)
        #expect(unlendable.claimContext() == nil)
    }

    @Test func aBrokenContextIsDroppedBeforeAnythingElse() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() != nil)
        _ = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false)
        let brokenReturnWakes = machine.returnContext(broken: true)
        #expect(brokenReturnWakes)
        machine.woken()
        guard case .drop = machine.nextStep() else { Issue.record("drops first"); return }
        guard case .write(true, _) = machine.nextStep() else { Issue.record("then connects anew and writes"); return }
        #expect(machine.claimContext() == nil)
    }

    @Test func aHandedOverRequestIsReadByTheThread() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() != nil)
        let (accepted, wake) = machine.handOver(Probe(id: 2, deadline: at(10)))
        #expect(accepted && wake)
        machine.woken()
        guard case .read(let oldest) = machine.nextStep(), oldest.id == 2 else { Issue.record("reads the handed-over request"); return }
    }

    /// Behind a request handed over, one queued before the thread's next step is written at
    /// once; one queued once the thread reads waits for that read to end (tests that need a
    /// request to stay queued wait for ``ConnectionStateMachine/reading``).
    @Test func aRequestQueuedDuringAReadWaitsForItButOneQueuedBeforeItIsWrittenBehindTheFlight() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() != nil)
        #expect(machine.handOver(Probe(id: 2, deadline: at(100))).accepted)
        machine.woken()
        #expect(!machine.reading)
        _ = machine.submit(Probe(id: 3, deadline: at(200)), isCancelled: false)
        guard case .write(false, _) = machine.nextStep() else { Issue.record("written behind the flight"); return }
        #expect(!machine.reading)
        #expect(machine.takeBatch(now: at(0), lendable: Token()).batch.map(\.id) == [3])
        guard case .read(let oldest) = machine.nextStep(), oldest.id == 2 else { Issue.record("reads the handed-over request"); return }
        #expect(machine.reading)
        _ = machine.submit(Probe(id: 4, deadline: at(300)), isCancelled: false)
        #expect(machine.unsent.map(\.id) == [4] && machine.reading)
        #expect(machine.finishOldest()?.id == 2)
        guard case .write(false, _) = machine.nextStep() else { Issue.record("written once the read ended"); return }
        #expect(!machine.reading)
    }

    @Test func closingDuringARoundTripInPlaceRefusesTheHandOver() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = writeAndAnswer(&machine)
        _ = machine.nextStep()   // sleep
        #expect(machine.claimContext() != nil)
        #expect(machine.close() == true, "the sleeping thread is woken")
        #expect(machine.close() == nil, "closing twice does nothing")
        machine.woken()
        guard case .exit(let unsent, let inFlight) = machine.nextStep() else { Issue.record("closed: the thread exits"); return }
        #expect(unsent.isEmpty && inFlight.isEmpty)
        #expect(machine.handOver(Probe(id: 2, deadline: nil)).accepted == false)
        guard case .rejected(.closed) = machine.submit(Probe(id: 3, deadline: nil), isCancelled: false) else {
            Issue.record("closed: new requests are refused"); return
        }
    }

    @Test func closingFailsWhatIsQueuedAndInFlight() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: nil)
        _ = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false)
        #expect(machine.close() == false, "a busy thread sees the close on its next step")
        guard case .exit(let unsent, let inFlight) = machine.nextStep() else { Issue.record("exit"); return }
        #expect(unsent.map(\.id) == [2])
        #expect(inFlight.map(\.id) == [1])
        #expect(machine.unsent.isEmpty && machine.inFlight.isEmpty)
    }

    @Test func aFailedConnectFailsEveryQueuedRequestAndAFailedFlightEveryWrittenOne() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        _ = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        #expect(machine.connectFailed().map(\.id) == [1, 2])
        _ = machine.submit(Probe(id: 3, deadline: nil), isCancelled: false)
        _ = machine.nextStep()
        _ = machine.takeBatch(now: at(0), lendable: Token())
        #expect(machine.flightFailed().map(\.id) == [3])
        #expect(machine.claimContext() == nil, "the failed context is never lent")
    }

    @Test func aThreadThatCannotStartFailsTheQueueAndIsStartedAgainLater() {
        var machine = Machine()
        _ = machine.submit(Probe(id: 1, deadline: nil), isCancelled: false)
        #expect(machine.threadFailedToStart().map(\.id) == [1])
        guard case .queued(true, _, _) = machine.submit(Probe(id: 2, deadline: nil), isCancelled: false) else {
            Issue.record("the next request starts a thread again"); return
        }
    }

    /// A million random event sequences (callers submitting, withdrawing, borrowing the context,
    /// handing requests over, closing; the I/O thread stepping, connecting or failing, reading or
    /// failing; wake-ups delivered late or spuriously; time passing), checking after every step:
    /// every request ends exactly once, no request waits while the thread could send it, the
    /// context has one user, and nothing outlives `close`.
    @Test func aMillionRandomSequencesKeepEveryPromise() async {
        let failure = await onOwnThread { () -> String? in
            var random = SplitMix64(seed: 0x5EED_C0DE)
            for index in 0..<1_000_000 {
                var walk = RandomWalk(seed: random.next())
                walk.run()
                if let failure = walk.failure { return "sequence \(index), seed \(walk.seed): \(failure)" }
            }
            return nil
        }
        #expect(failure == nil)
    }
}

/// One random sequence of events against a machine, with a model of the I/O thread and of a caller
/// borrowing the context.
private struct RandomWalk {
    enum Thread { case notStarted, idle, sleeping, writing(mayConnect: Bool, connectBy: ContinuousClock.Instant?), reading(UInt64), exited }

    let seed: UInt64
    var random: SplitMix64
    var machine = Machine()
    var thread = Thread.notStarted
    var borrowed: Token?
    var now = 0
    var nextID: UInt64 = 0
    /// How many times each request ended, by id (every id made was submitted).
    var ended: [UInt8] = [0]
    var failure: String?

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
    }

    mutating func run() {
        let steps = 4 + Int(random.next() % 28)
        for _ in 0..<steps where failure == nil { event() }
        // Wind down: close, give a borrowed context back, and let the thread run to its end.
        if failure == nil { finish() }
    }

    private mutating func event() {
        switch random.next() % 100 {
        case 0..<25: submit()
        case 25..<30: withdraw()
        case 30..<38: borrow()
        case 38..<46: giveBack()
        case 46..<48: close()
        case 48..<52: now += Int(random.next() % 50)
        default: stepThread()
        }
        check()
    }

    private mutating func submit() {
        nextID += 1
        let deadline = random.next() % 3 == 0 ? nil : at(now + Int(random.next() % 100))
        let request = Probe(id: nextID, deadline: deadline)
        ended.append(0)
        switch machine.submit(request, isCancelled: random.next() % 20 == 0) {
        case .rejected: end([request])
        case .queued(let startThread, let wake, let needsTimer):
            // A connect in progress gives up at its limit: a request with no timer never has an earlier deadline.
            if case .writing(true, let connectBy) = thread, !needsTimer, let deadline {
                if connectBy.map({ $0 > deadline }) ?? true { fail("request \(request.id) may outwait a connect, with no timer") }
            }
            if startThread {
                guard case .notStarted = thread else { return fail("started a running thread") }
                thread = .idle
            }
            if wake { deliverWakeLater() }
        }
    }

    private mutating func withdraw() {
        guard nextID > 0 else { return }
        let id = 1 + random.next() % nextID
        if let request = machine.withdraw(id) { end([request]) }
    }

    private mutating func borrow() {
        guard borrowed == nil else { return }
        borrowed = machine.claimContext()
        if borrowed != nil {
            if case .writing = thread { fail("lent while the thread writes") }
            if case .reading = thread { fail("lent while the thread reads") }
        }
    }

    private mutating func giveBack() {
        guard borrowed != nil else { return }
        borrowed = nil
        switch random.next() % 3 {
        case 0:
            nextID += 1
            let request = Probe(id: nextID, deadline: random.next() % 2 == 0 ? nil : at(now + 50))
            ended.append(0)
            let (accepted, wake) = machine.handOver(request)
            if !accepted { end([request]) }
            if wake { deliverWakeLater() }
        default:
            if machine.returnContext(broken: random.next() % 3 == 0) { deliverWakeLater() }
        }
    }

    private mutating func close() {
        _ = machine.close()
        // A close wakes the thread when it sleeps (the layer signals it).
    }

    /// The wake-up arrives whenever the thread next polls: the model keeps it as `wakePending`.
    private mutating func deliverWakeLater() {}

    private mutating func stepThread() {
        switch thread {
        case .notStarted, .exited:
            return
        case .sleeping:
            // Woken by a signal, or spuriously (EINTR) now and then.
            guard machine.wakePending || random.next() % 10 == 0 else { return }
            machine.woken()
            thread = .idle
        case .idle:
            switch machine.nextStep() {
            case .exit(let unsent, let inFlight):
                end(unsent + inFlight)
                thread = .exited
            case .drop: break
            case .sleep: thread = .sleeping
            case .write(let mayConnect, let connectBy):
                if borrowed != nil { fail("writes while a caller holds the context") }
                if !mayConnect && machine.inFlight.isEmpty { fail("no connect allowed with nothing in flight") }
                let earliest = machine.unsent.compactMap(\.deadline).min()
                if mayConnect && connectBy != earliest { fail("a connect must give up at the earliest deadline waiting") }
                thread = .writing(mayConnect: mayConnect, connectBy: connectBy)
            case .read(let oldest):
                if borrowed != nil { fail("reads while a caller holds the context") }
                thread = .reading(oldest.id)
            }
        case .writing(let mayConnect, _):
            let outcome = random.next() % 6
            if mayConnect, outcome == 0 {
                end(machine.connectFailed())
            } else if mayConnect, outcome == 1 {
                // The connect gave up at the earliest deadline: only the expired requests end.
                let expired = machine.connectOutlasted(now: at(now))
                for request in expired where (request.deadline.map { $0 > at(now) } ?? true) { fail("request \(request.id) failed before its deadline") }
                for request in machine.unsent where (request.deadline.map { $0 <= at(now) } ?? false) { fail("request \(request.id) stayed past its deadline") }
                end(expired)
            } else {
                // Behind a flight, nothing goes whose deadline is earlier than one ahead of it.
                let ahead = machine.inFlight.map(\.deadline)
                let (expired, batch) = machine.takeBatch(now: at(now), lendable: random.next() % 4 == 0 ? nil : Token())
                if !ahead.isEmpty {
                    let latest = ahead.contains(where: { $0 == nil }) ? nil : ahead.compactMap { $0 }.max()
                    for request in batch {
                        guard let deadline = request.deadline else { continue }
                        if latest == nil || deadline < latest! { fail("request \(request.id) written behind a later deadline") }
                    }
                }
                end(expired)
                for request in expired where (request.deadline.map { $0 > at(now) } ?? true) { fail("request \(request.id) expired early") }
                if batch.isEmpty && expired.isEmpty && machine.inFlight.isEmpty { /* all withdrawn meanwhile */ }
            }
            thread = .idle
        case .reading(let id):
            if random.next() % 8 == 0 {
                end(machine.flightFailed())
            } else {
                guard let finished = machine.finishOldest() else { return fail("nothing in flight to finish") }
                if finished.id != id { fail("finished \(finished.id), read \(id)") }
                end([finished])
            }
            thread = .idle
        }
    }

    private mutating func finish() {
        close()
        var guardSteps = 0
        while failure == nil {
            guardSteps += 1
            if guardSteps > 10_000 { return fail("the thread never exits after close") }
            if borrowed != nil { giveBack() }
            if case .exited = thread { break }
            if case .notStarted = thread { break }
            if case .sleeping = thread, !machine.wakePending { return fail("closed, but the sleeping thread is never woken") }
            stepThread()
            check()
        }
        if failure == nil, borrowed != nil { giveBack() }
        if let never = ended.indices.dropFirst().first(where: { ended[$0] == 0 }) { fail("request \(never) never ended") }
        if case .exited = thread, !(machine.unsent.isEmpty && machine.inFlight.isEmpty) { fail("requests outlive close") }
        if case .rejected(.closed) = machine.submit(Probe(id: 0, deadline: nil), isCancelled: false) {} else { fail("a closed connection took a request") }
    }

    private mutating func end(_ requests: [Probe]) {
        for request in requests {
            let id = Int(request.id)
            guard id > 0, id < ended.count else { return fail("request \(id) was never submitted") }
            ended[id] += 1
            if ended[id] > 1 { fail("request \(id) ended twice") }
        }
    }

    /// The promises that hold between any two events.
    private mutating func check() {
        let lent = if case .lent = machine.access { true } else { false }
        if lent != (borrowed != nil) { fail("lent \(lent), but the caller holds \(borrowed != nil)") }
        if case .sleeping = thread, !machine.wakePending {
            // Asleep with no wake-up coming: only right when there is nothing it could do.
            if machine.isClosed { fail("closed while the thread sleeps unwoken") }
            if !machine.unsent.isEmpty && !lent { fail("a request waits while the thread could send it") }
            if !machine.inFlight.isEmpty { fail("a written request waits for a thread that sleeps") }
        }
        if case .notStarted = thread, !machine.unsent.isEmpty { fail("requests queued with no thread") }
        let reading = if case .reading = thread { true } else { false }
        if machine.reading != reading { fail("the machine says reading \(machine.reading), the thread is \(thread)") }
    }

    private mutating func fail(_ message: String) {
        if failure == nil { failure = message }
    }
}

/// A connect's phases (credentials, TCP, TLS, handshake) share one limit: the earliest deadline waiting.
@Suite struct ConnectPhaseLimitTests {
    @Test func eachPhaseGetsItsTimeoutCutToTheTimeLeft() throws {
        #expect(try HiredisContext.phaseLimit(.seconds(5), deadline: nil) == .seconds(5))
        #expect(try HiredisContext.phaseLimit(nil, deadline: nil) == nil)
        let soon = try #require(try HiredisContext.phaseLimit(.seconds(5), deadline: .now + .seconds(1)))
        #expect(soon <= .seconds(1) && soon > .zero)
        let unbounded = try #require(try HiredisContext.phaseLimit(nil, deadline: .now + .seconds(1)))
        #expect(unbounded <= .seconds(1) && unbounded > .zero)
        #expect(try HiredisContext.phaseLimit(.milliseconds(10), deadline: .now + .seconds(60)) == .milliseconds(10))
    }

    @Test func aDeadlineAlreadyPastIsATimeoutWithNothingSent() {
        for deadline: ContinuousClock.Instant in [.now, .now - .seconds(1)] {
            #expect {
                _ = try HiredisContext.phaseLimit(.seconds(5), deadline: deadline)
            } throws: { error in
                guard let error = error as? RedisError else { return false }
                return error.code == .timeout && !error.mayHaveRun
            }
        }
    }
}
