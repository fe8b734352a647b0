/// When a caller waiting in place for its reply must arm its connection's timer, which ends the
/// wait by its end at the latest. A timer still running from an earlier call, armed to expire
/// no later than this wait's end, serves as it is: it wakes the wait early, and the wait arms the
/// timer again for what is left. So a run of calls faster than the wait arms the timer about once
/// per wait length instead of once per call (arming a CPU's earliest timer reprograms its timer
/// hardware, which costs a virtual machine several microseconds). A plain value: its
/// ``HiredisContext`` keeps it, used only by the caller holding the context.
struct ReplyWaitTimer {
    /// When the timer armed last expires; `nil` once it was seen to expire (or before the first).
    private(set) var armedUntil: ContinuousClock.Instant?

    /// Before waiting at `now` until `end`: the timeout to arm the timer with, or `nil` when the
    /// timer armed already expires after `now` and no later than `end`.
    mutating func arming(until end: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Duration? {
        if let armedUntil, armedUntil > now, armedUntil <= end { return nil }
        armedUntil = end
        return now.duration(to: end)
    }

    /// The timer expired (its expiry was read), or arming it failed.
    mutating func expired() {
        armedUntil = nil
    }
}
