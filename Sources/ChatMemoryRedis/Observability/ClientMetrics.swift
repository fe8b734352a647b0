#if MetricsSupport
import CoreMetrics
#endif

/// The client's counters and timers (see ``RedisClient/Observability``). Without the
/// `MetricsSupport` trait, or with no metrics backend, every method returns at once.
struct ClientMetrics: Sendable {
    #if MetricsSupport
    private let backend: Backend?

    /// `nil`, or the NOOP factory bootstrapped by default: no metrics.
    init(factory: (any MetricsFactory)?) {
        let factory = factory ?? MetricsSystem.factory
        backend = factory is NOOPMetricsHandler ? nil : Backend(factory: factory)
    }

    var isEnabled: Bool { backend != nil }
    #else
    var isEnabled: Bool { false }
    #endif

    /// No metrics (a pool or connection made outside a client, as tests do).
    init() {
        #if MetricsSupport
        backend = nil
        #endif
    }

    /// A call ended: its commands were sent (or not), it took `duration`, and failed with
    /// `error`, or each command got its result.
    func callEnded(_ commands: [RedisCommand], name: String, duration: Duration, outcome: Result<[Result<RedisValue, RedisError>], any Error>) {
        #if MetricsSupport
        guard let backend else { return }
        backend.timer(name).recordNanoseconds(duration.nanoseconds)
        for command in commands { backend.commands(CommandNames.name(of: command)).increment() }
        switch outcome {
        case .failure(let error):
            backend.errors(ErrorKinds.kind(of: error)).increment()
        case .success(let replies):
            for case .failure(let error) in replies { backend.errors(ErrorKinds.kind(of: error)).increment() }
        }
        #endif
    }

    /// A caller waited `duration` for a pool slot (whether it got one or not).
    func poolWaitEnded(after duration: Duration) {
        #if MetricsSupport
        guard let backend else { return }
        backend.poolWaits.increment()
        backend.poolWaitDuration.recordNanoseconds(duration.nanoseconds)
        #endif
    }

    /// A pooled connection connected again after losing its connection.
    func reconnected() {
        #if MetricsSupport
        backend?.reconnects.increment()
        #endif
    }
}

#if MetricsSupport
extension ClientMetrics {
    /// The metrics, made on first use for each dimension value (a bounded set).
    private final class Backend: Sendable {
        private struct Made {
            var commands: [String: Counter] = [:]
            var errors: [String: Counter] = [:]
            var timers: [String: Timer] = [:]
        }

        private let factory: any MetricsFactory
        private let made = Locked(Made())
        let poolWaits: Counter
        let poolWaitDuration: Timer
        let reconnects: Counter

        init(factory: any MetricsFactory) {
            self.factory = factory
            poolWaits = Counter(label: "redis_pool_waits_total", factory: factory)
            poolWaitDuration = Timer(label: "redis_pool_wait_duration", factory: factory)
            reconnects = Counter(label: "redis_reconnects_total", factory: factory)
        }

        func commands(_ name: String) -> Counter {
            made.withLock { made in
                if let counter = made.commands[name] { return counter }
                let counter = Counter(label: "redis_commands_total", dimensions: [("command", name)], factory: factory)
                made.commands[name] = counter
                return counter
            }
        }

        func errors(_ kind: String) -> Counter {
            made.withLock { made in
                if let counter = made.errors[kind] { return counter }
                let counter = Counter(label: "redis_command_errors_total", dimensions: [("kind", kind)], factory: factory)
                made.errors[kind] = counter
                return counter
            }
        }

        func timer(_ name: String) -> Timer {
            made.withLock { made in
                if let timer = made.timers[name] { return timer }
                let timer = Timer(label: "redis_command_duration", dimensions: [("command", name)], factory: factory)
                made.timers[name] = timer
                return timer
            }
        }
    }
}
#endif

extension Duration {
    /// Whole nanoseconds, saturating at `Int64.max`.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowed) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowed ? .max : total
    }
}
