@testable import ChatMemoryRedis
import Testing

private let origin = ContinuousClock.now

private func at(_ microseconds: Int) -> ContinuousClock.Instant { origin + .microseconds(microseconds) }

/// When a caller's wait in place arms its connection's timer: only when the timer armed would
/// not end the wait by the wait's end.
@Suite struct ReplyWaitTimerTests {
    @Test func theFirstWaitArmsTheTimerForAllOfItsTime() {
        var timer = ReplyWaitTimer()
        #expect(timer.arming(until: at(250), now: at(0)) == .microseconds(250))
        #expect(timer.armedUntil == at(250))
    }

    @Test func aTimerStillRunningThatEndsTheWaitInTimeServesTheNextWaits() {
        var timer = ReplyWaitTimer()
        _ = timer.arming(until: at(250), now: at(0))
        // Calls 20 µs apart: each wait ends later than the timer, which wakes it early enough.
        for start in stride(from: 20, to: 250, by: 20) {
            #expect(timer.arming(until: at(start + 250), now: at(start)) == nil, "a wait starting at \(start) µs")
        }
        #expect(timer.armedUntil == at(250))
    }

    @Test func aWaitEndingBeforeTheTimerArmsItForItsOwnEnd() {
        var timer = ReplyWaitTimer()
        _ = timer.arming(until: at(250), now: at(0))
        // A deadline nearer than the timer: the timer would wake the wait too late.
        #expect(timer.arming(until: at(100), now: at(10)) == .microseconds(90))
        #expect(timer.armedUntil == at(100))
    }

    @Test func aTimerPastItsTimeOrSeenToExpireIsArmedAgain() {
        var timer = ReplyWaitTimer()
        _ = timer.arming(until: at(250), now: at(0))
        // Its time has come (its expiry may not be read yet): arming again clears that expiry.
        #expect(timer.arming(until: at(500), now: at(250)) == .microseconds(250))
        timer.expired()
        #expect(timer.armedUntil == nil)
        #expect(timer.arming(until: at(600), now: at(300)) == .microseconds(300))
    }

    @Test func wholeMicrosecondsRoundUpAndNeverTrap() {
        #expect(Duration.nanoseconds(1).wholeMicrosecondsRoundedUp == 1)
        #expect(Duration.nanoseconds(1_001).wholeMicrosecondsRoundedUp == 2)
        #expect(Duration.microseconds(250).wholeMicrosecondsRoundedUp == 250)
        #expect(Duration.zero.wholeMicrosecondsRoundedUp == 1)
        #expect(Duration.seconds(-5).wholeMicrosecondsRoundedUp == 1)
        #expect(Duration.seconds(Int64.max).wholeMicrosecondsRoundedUp == .max)
        #expect((Duration.seconds(Int64.max) * 4).wholeMicrosecondsRoundedUp == .max)
        #expect((Duration.seconds(Int64.max / 1_000_000) + .nanoseconds(1)).wholeMicrosecondsRoundedUp == .max)
        #expect(Duration.seconds(Int64.max / 1_000_000).wholeMicrosecondsRoundedUp == Int64.max / 1_000_000 * 1_000_000)
    }
}
