#if MetricsSupport
import CoreMetrics
#endif
#if DistributedTracingSupport
import Tracing
#endif

extension RedisClient {
    /// Where a client reports its metrics and spans: the process-wide backends by default, or
    /// ones of your own (so that tests, or two clients, keep theirs apart).
    ///
    /// With the `MetricsSupport` trait (on by default) the client counts commands
    /// (`redis_commands_total`, by `command`), errors (`redis_command_errors_total`, by `kind`),
    /// waits for a pool slot (`redis_pool_waits_total`, timer `redis_pool_wait_duration`) and
    /// reconnects (`redis_reconnects_total`), and times each call (`redis_command_duration`, by
    /// `command`: the command's name, `PIPELINE` or `TRANSACTION`). A command outside the set
    /// of names the client knows is `OTHER`; no key or argument is ever a dimension.
    ///
    /// With the `DistributedTracingSupport` trait (on by default) each call is a client span named
    /// like its `command` dimension, with `db.system.name`, `db.operation.name`, `db.namespace`,
    /// `server.address` and `server.port` (never an argument); a failed call records its error.
    ///
    /// With no backend bootstrapped and none given here, the client does none of this work.
    ///
    /// ```swift
    /// var observability = RedisClient.Observability()
    /// observability.metricsFactory = prometheus      // default: MetricsSystem.factory
    /// observability.tracer = otelTracer              // default: InstrumentationSystem.tracer
    /// let client = RedisClient(configuration: configuration, logger: logger, observability: observability)
    /// ```
    public struct Observability: Sendable {
        #if MetricsSupport
        /// Where metrics go; `nil`: the factory bootstrapped in `MetricsSystem` when the client is created.
        public var metricsFactory: (any MetricsFactory)?
        #endif
        #if DistributedTracingSupport
        /// Where spans go; `nil`: the tracer bootstrapped in `InstrumentationSystem` when the
        /// client is created. `RedisChatMemory` uses its client's tracer too.
        public var tracer: (any Tracer)?
        #endif

        /// The process-wide backends.
        public init() {}

        #if DistributedTracingSupport
        /// The tracer spans go to, or `nil` when none is given or bootstrapped (no span is made).
        public var activeTracer: (any Tracer)? {
            let tracer = tracer ?? InstrumentationSystem.tracer
            return tracer is NoOpTracer ? nil : tracer
        }
        #endif
    }
}
