@testable import ChatMemoryRedis
import Testing

/// A timeout before sending says how much of its time the call still had when it reached the
/// client's queue: all of it points at the connection, little of it at a caller that ran late.
@Suite struct NeverSentMessageTests {
    private let origin = ContinuousClock.now

    @Test func aCallThatWaitedItsWholeTimeInTheQueueSaysSo() {
        let text = RedisConnection.queueWait(entered: origin, deadline: origin + .seconds(60), now: origin + .seconds(60))
        #expect(text == "it reached the client's queue with 60000 ms of its time left and waited there 60000 ms")
    }

    @Test func aCallThatReachedTheQueueLateSaysHowLittleTimeItHad() {
        let text = RedisConnection.queueWait(entered: origin, deadline: origin + .milliseconds(19.6), now: origin + .milliseconds(20.2))
        #expect(text == "it reached the client's queue with 19 ms of its time left and waited there 20 ms")
    }

    @Test func aCallThatReachedTheQueuePastItsDeadlineSaysSo() {
        for late in [Duration.zero, .nanoseconds(1), .seconds(5)] {
            let text = RedisConnection.queueWait(entered: origin, deadline: origin - late, now: origin + .milliseconds(3))
            #expect(text == "it reached the client's queue after its deadline had passed")
        }
    }

    @Test func aCallWithoutADeadlineSaysOnlyHowLongItWaited() {
        #expect(RedisConnection.queueWait(entered: origin, deadline: nil, now: origin + .milliseconds(7)) == "it waited there 7 ms")
    }

    @Test func wholeMillisecondsSaturateInsteadOfTrapping() {
        #expect(Duration.milliseconds(1234.9).wholeMilliseconds == 1234)
        #expect(Duration.milliseconds(-2.5).wholeMilliseconds == -2)
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeMilliseconds == .min)
        #expect(Duration.seconds(Int64.max / 1000).wholeMilliseconds == Int64.max / 1000 * 1000)
        // The largest whole seconds that fit as milliseconds: a fraction that still fits is added,
        // one that does not saturates.
        let seconds = Int64.max / 1000
        #expect(Duration(secondsComponent: seconds, attosecondsComponent: 500_000_000_000_000_000).wholeMilliseconds == seconds * 1000 + 500)
        #expect(Duration(secondsComponent: seconds, attosecondsComponent: 999_000_000_000_000_000).wholeMilliseconds == .max)
    }
}
