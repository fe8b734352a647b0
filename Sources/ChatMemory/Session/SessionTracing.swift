import ChatMemoryRedis
#if DistributedTracingSupport
import Tracing
#endif

/// Spans around a session's appends and window reads, parents of the Redis calls they make.
/// Without the `DistributedTracingSupport` trait, or with no tracer, the body just runs.
struct SessionTracing: Sendable {
    #if DistributedTracingSupport
    private let tracer: (any Tracer)?

    /// The client's tracer (see ``RedisClient/Observability``).
    init(client: RedisClient) {
        tracer = client.observability.activeTracer
    }

    /// The tracer bootstrapped in `InstrumentationSystem`, if any.
    init() {
        tracer = RedisClient.Observability().activeTracer
    }
    #else
    init(client: RedisClient) {}
    init() {}
    #endif

    /// Runs `body` inside an internal span `name` carrying the session id and `attributes`;
    /// `body` may add attributes of its result through the function it is given. An error
    /// thrown is recorded on the span.
    func span<R>(_ name: String, session: SessionID, attributes: KeyValuePairs<String, Int>,
                 _ body: (_ record: (String, Int) -> Void) async throws -> R) async throws -> R {
        #if DistributedTracingSupport
        if let tracer { return try await span(tracer, name, session: session, attributes: attributes, body) }
        #endif
        return try await body { _, _ in }
    }

    #if DistributedTracingSupport
    private func span<R>(_ tracer: some Tracer, _ name: String, session: SessionID, attributes: KeyValuePairs<String, Int>,
                         _ body: (_ record: (String, Int) -> Void) async throws -> R) async throws -> R {
        try await tracer.withSpan(name, ofKind: .internal) { span in
            span.updateAttributes { values in
                values["chat.session"] = session.description
                for (key, value) in attributes { values[key] = value }
            }
            return try await body { key, value in span.attributes[key] = value }
        }
    }
    #endif
}
