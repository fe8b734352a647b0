import Logging
#if DistributedTracingSupport
import Tracing
#endif

/// What a client does around each call: a span, metrics, and a `trace` line (a `debug` line when
/// it fails). With no metrics or tracing backend, only the log level is checked.
struct ClientInstruments: Sendable {
    let metrics: ClientMetrics
    /// `host:port` or `unix:path`: never credentials.
    let endpoint: String
    #if DistributedTracingSupport
    private let tracer: (any Tracer)?
    private let database: Int
    private let server: (address: String, port: Int?)
    #endif

    init(configuration: RedisConfiguration, observability: RedisClient.Observability) {
        #if MetricsSupport
        metrics = ClientMetrics(factory: observability.metricsFactory)
        #else
        metrics = ClientMetrics()
        #endif
        endpoint = configuration.endpoint.description
        #if DistributedTracingSupport
        tracer = observability.activeTracer
        database = configuration.database
        switch configuration.endpoint {
        case .tcp(let host, let port): server = (host, port)
        case .unixSocket(let path): server = (path, nil)
        }
        #endif
    }

    /// Runs one call (its commands, sent on one pooled connection) under a span, and records it.
    /// `body` returns the connection's id and each command's result.
    func observe(_ commands: [RedisCommand], inTransaction: Bool, logger: Logger,
                 _ body: () async throws -> (connection: Int?, replies: [Result<RedisValue, RedisError>])) async throws -> [Result<RedisValue, RedisError>] {
        #if DistributedTracingSupport
        let traced = tracer != nil
        #else
        let traced = false
        #endif
        guard metrics.isEnabled || traced else {
            // The common case: no backend, so nothing is timed or named.
            do {
                let (connection, replies) = try await body()
                logger.trace("redis call", metadata: metadata(commands, inTransaction: inTransaction, connection: connection, replies: replies))
                return replies
            } catch {
                logFailure(error, commands, inTransaction: inTransaction, logger: logger)
                throw error
            }
        }
        let name = CommandNames.name(of: commands, inTransaction: inTransaction)
        let started = ContinuousClock.now
        #if DistributedTracingSupport
        let span = tracer.map { startSpan($0, name: name, commands: commands) }
        defer { span?.end() }
        #endif
        do {
            let (connection, replies) = try await body()
            metrics.callEnded(commands, name: name, duration: started.duration(to: .now), outcome: .success(replies))
            #if DistributedTracingSupport
            if let span, let failure = replies.lazy.compactMap(\.failure).first { fail(span, failure) }
            #endif
            logger.trace("redis call", metadata: metadata(commands, inTransaction: inTransaction, connection: connection, replies: replies))
            return replies
        } catch {
            metrics.callEnded(commands, name: name, duration: started.duration(to: .now), outcome: .failure(error))
            #if DistributedTracingSupport
            if let span { fail(span, error) }
            #endif
            logFailure(error, commands, inTransaction: inTransaction, logger: logger)
            throw error
        }
    }

    /// The call's command name and count, endpoint and connection, and how many commands got an
    /// error reply: never an argument.
    private func metadata(_ commands: [RedisCommand], inTransaction: Bool, connection: Int?,
                          replies: [Result<RedisValue, RedisError>] = []) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "redis.command": "\(CommandNames.name(of: commands, inTransaction: inTransaction))",
            "redis.commands": "\(commands.count)",
            "redis.endpoint": "\(endpoint)",
        ]
        if let connection { metadata["redis.connection"] = "\(connection)" }
        let failed = replies.lazy.filter { $0.failure != nil }.count
        if failed > 0 { metadata["redis.failed"] = "\(failed)" }
        return metadata
    }

    private func logFailure(_ error: any Error, _ commands: [RedisCommand], inTransaction: Bool, logger: Logger) {
        logger.debug("redis call failed", metadata: {
            var metadata = self.metadata(commands, inTransaction: inTransaction, connection: nil)
            metadata["redis.error"] = "\(ErrorKinds.kind(of: error))"
            return metadata
        }())
    }

    #if DistributedTracingSupport
    private func startSpan(_ tracer: some Tracer, name: String, commands: [RedisCommand]) -> any Span {
        let span = tracer.startSpan(name, ofKind: .client)
        span.updateAttributes { attributes in
            attributes["db.system.name"] = "redis"
            attributes["db.operation.name"] = name
            attributes["db.namespace"] = "\(database)"
            if commands.count > 1 { attributes["db.operation.batch.size"] = commands.count }
            attributes["server.address"] = server.address
            if let port = server.port { attributes["server.port"] = port }
        }
        return span
    }

    private func fail(_ span: any Span, _ error: any Error) {
        span.attributes["error.type"] = ErrorKinds.kind(of: error)
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error))
    }
    #endif
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
