/// When a call that failed is tried again, and how long to wait first: one policy for every path
/// that retries (the cluster router, the Sentinel router, the chat store's append).
///
/// A call is tried again only after a connection failure (``isConnectionFailure(_:)``), and only
/// when it certainly did not run or running it twice is harmless (it only reads, or it is
/// idempotent), at most ``maxRetries`` times, each after a wait from ``initialBackoff`` doubling
/// up to ``maxBackoff``, plus up to half again as jitter, and never past the call's deadline.
/// Server replies that ask for a retry (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `READONLY`...) are
/// the routers' to recognise; they wait through ``pause(beforeRetry:deadline:)`` too.
package struct RetryPolicy: Sendable, Equatable {
    /// How many times a call may be tried again.
    package var maxRetries: Int
    /// The wait before the first retry.
    package var initialBackoff: Duration
    /// The longest wait between two tries (before jitter).
    package var maxBackoff: Duration

    package init(maxRetries: Int, initialBackoff: Duration = .milliseconds(25), maxBackoff: Duration = .milliseconds(500)) {
        self.maxRetries = max(0, maxRetries)
        self.initialBackoff = max(.zero, initialBackoff)
        self.maxBackoff = max(self.initialBackoff, maxBackoff)
    }

    /// Whether an error means that the connection, not the command, failed.
    package static func isConnectionFailure(_ error: RedisError) -> Bool {
        [.connectionRefused, .connectionClosed, .io, .protocolError].contains(error.code)
    }

    /// Whether a call that failed with `error` may be tried again: a connection failure, and
    /// either it did not run (`mayHaveRun` false) or it is `safeToRepeat` (it only reads, or it
    /// is idempotent). ``pause(beforeRetry:deadline:)`` then says whether there is a try left.
    package func allowsRetry(after error: RedisError, safeToRepeat: Bool) -> Bool {
        Self.isConnectionFailure(error) && (!error.mayHaveRun || safeToRepeat)
    }

    /// Whether retry `retry` (1 for the first) is within ``maxRetries``.
    package func hasRetry(_ retry: Int) -> Bool {
        retry <= maxRetries
    }

    /// The wait before retry `retry` (1 for the first), before jitter: ``initialBackoff``
    /// doubling, at most ``maxBackoff``. Never overflows, whatever `retry`.
    package func backoff(beforeRetry retry: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(1, min(retry, 64)) {
            guard delay < maxBackoff else { break }
            delay = min(delay * 2, maxBackoff)
        }
        return min(delay, maxBackoff)
    }

    /// Sleeps the backoff of retry `retry` (1 for the first) with up to half of it again as
    /// jitter; false, without sleeping, past ``maxRetries`` or when `deadline` would come first
    /// (the caller then gives up with its last error rather than try once more with no time
    /// left). Throws when the task is cancelled.
    package func pause(beforeRetry retry: Int, deadline: ContinuousClock.Instant?) async throws -> Bool {
        guard hasRetry(retry) else { return false }
        let delay = backoff(beforeRetry: retry)
        let wait = delay + delay * Double.random(in: 0...0.5)
        if let deadline, ContinuousClock.now.duration(to: deadline) <= wait { return false }
        try await Task.sleep(for: wait)
        return true
    }
}
