@testable import ChatMemoryRedis
import Testing

/// The one retry policy the cluster router, the Sentinel router and the chat store share.
@Suite struct RetryPolicyTests {
    @Test func onlyConnectionFailuresAreRetriedAndOnlyWhenSafe() {
        let policy = RetryPolicy(maxRetries: 3)
        for code in [RedisError.Code.connectionRefused, .connectionClosed, .io, .protocolError] {
            #expect(policy.allowsRetry(after: RedisError(code, "x", mayHaveRun: false), safeToRepeat: false), "\(code) before sending")
            #expect(!policy.allowsRetry(after: RedisError(code, "x", mayHaveRun: true), safeToRepeat: false), "\(code) after sending, not safe")
            #expect(policy.allowsRetry(after: RedisError(code, "x", mayHaveRun: true), safeToRepeat: true), "\(code) after sending, idempotent")
        }
        for code in [RedisError.Code.timeout, .shutdown, .server(.wrongType), .server(.noPermission), .invalidCommand] {
            #expect(!policy.allowsRetry(after: RedisError(code, "x", mayHaveRun: false), safeToRepeat: true), "\(code) is the caller's")
        }
    }

    @Test func backoffDoublesUpToItsCapAndNeverOverflows() {
        let policy = RetryPolicy(maxRetries: 1_024, initialBackoff: .milliseconds(25), maxBackoff: .milliseconds(500))
        #expect((1...6).map { policy.backoff(beforeRetry: $0) } == [25, 50, 100, 200, 400, 500].map { Duration.milliseconds($0) })
        for retry in [7, 64, 1_024, Int.max, 0, -1, Int.min] {
            let delay = policy.backoff(beforeRetry: retry)
            #expect(delay >= .milliseconds(25) && delay <= .milliseconds(500), "retry \(retry): \(delay)")
        }
        // Out-of-range settings are clamped, not trapped on.
        let odd = RetryPolicy(maxRetries: -5, initialBackoff: .seconds(-1), maxBackoff: .seconds(-2))
        #expect(odd.maxRetries == 0 && odd.initialBackoff == .zero && odd.maxBackoff == .zero)
        #expect(!odd.hasRetry(1))
    }

    @Test func aPauseStopsAtTheLastRetryOrBeforeTheDeadline() async throws {
        let policy = RetryPolicy(maxRetries: 2, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(2))
        #expect(try await policy.pause(beforeRetry: 1, deadline: nil))
        #expect(try await policy.pause(beforeRetry: 2, deadline: nil))
        #expect(try await policy.pause(beforeRetry: 3, deadline: nil) == false, "past maxRetries")
        // A deadline closer than the wait: no sleep, give up (whatever the clock's speed).
        let slow = RetryPolicy(maxRetries: 2, initialBackoff: .seconds(3_600))
        #expect(try await slow.pause(beforeRetry: 1, deadline: .now + .seconds(60)) == false)
        let cancelled = Task { try await RetryPolicy(maxRetries: 1, initialBackoff: .seconds(3_600)).pause(beforeRetry: 1, deadline: nil) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }
}
