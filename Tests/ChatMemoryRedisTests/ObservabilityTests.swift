import Foundation
import Logging
@testable import ChatMemoryRedis
import Testing
#if MetricsSupport
import MetricsTestKit
#endif
#if DistributedTracingSupport
import InMemoryTracing
import Tracing
#endif

/// Metrics and spans go to the backends a client is given (so these tests run in parallel, with
/// nothing bootstrapped process-wide); per-call loggers; the library logs at debug and trace only.
@Suite(.timeLimit(.minutes(2))) struct ObservabilityTests {
    @Test func withNoBackendTheClientMakesNoMetricsAndNoSpans() throws {
        let client = try TestServer.client()
        #expect(!client.instruments.metrics.isEnabled)
        #if DistributedTracingSupport
        #expect(client.observability.activeTracer == nil)
        #endif
    }

    @Test func commandNamesAreBoundedAndNeverArguments() {
        #expect(CommandNames.name(of: RedisCommand("lpush", "k", "v")) == "LPUSH")
        #expect(CommandNames.name(of: RedisCommand("LpUsH")) == "LPUSH")
        #expect(CommandNames.name(of: RedisCommand("chat:secret-key")) == "OTHER")
        #expect(CommandNames.name(of: RedisCommand(arguments: [])) == "OTHER")
        #expect(CommandNames.name(of: RedisCommand(arguments: [[]])) == "OTHER")
        #expect(CommandNames.name(of: RedisCommand(arguments: [[0xFF, 0xFE, 0x00]])) == "OTHER")
        #expect(CommandNames.name(of: RedisCommand(arguments: [Array(repeating: 0x41, count: 1 << 20)])) == "OTHER")
        #expect(CommandNames.name(of: [RedisCommand("GET", "a"), RedisCommand("GET", "b")], inTransaction: false) == "PIPELINE")
        #expect(CommandNames.name(of: [RedisCommand("GET", "a")], inTransaction: true) == "TRANSACTION")
    }

    @Test func errorKindsAreBoundedNames() {
        #expect(ErrorKinds.kind(of: RedisError.server("WRONGTYPE Operation against a key")) == "server_WRONGTYPE")
        #expect(ErrorKinds.kind(of: RedisError.server("ERR unknown command 'chat:secret'")) == "server_ERR")
        #expect(ErrorKinds.kind(of: RedisError.server("SOMETHING new")) == "server_other")
        #expect(ErrorKinds.kind(of: RedisError(.timeout, "x")) == "timeout")
        // Named by the code's class, never by the message.
        #expect(ErrorKinds.kind(of: RedisError(.server(.busy), "not the server's text")) == "server_BUSY")
        #expect(ErrorKinds.kind(of: RedisError(.server(.init(rawValue: "NOGROUP")), "x")) == "server_other")
        #expect(ErrorKinds.kind(of: CancellationError()) == "cancelled")
        #expect(ErrorKinds.kind(of: TestServerMissing()) == "other")
    }

    #if MetricsSupport
    @Test func commandsErrorsAndDurationsAreCountedByBoundedDimensions() async throws {
        let metrics = TestMetrics()
        let key = TestServer.key()
        try await withClient(observability: .metrics(metrics)) { client in
            try await client.send("LPUSH", key, "a")
            try await client.send("lpush", key, "b")
            await expectRedisError(.server(.generic)) { try await client.send("NOSUCHCOMMAND", key) }
            _ = try await client.pipeline([RedisCommand("LLEN", key), RedisCommand("GET", key)])   // GET: WRONGTYPE
            _ = try await client.transaction([RedisCommand("LLEN", key)])
            try await client.send("DEL", key)
        }
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "LPUSH")]).totalValue == 2)
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "OTHER")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "LLEN")]).totalValue == 2)
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "MULTI")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_command_errors_total", [("kind", "server_ERR")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_command_errors_total", [("kind", "server_WRONGTYPE")]).totalValue == 1)
        #expect(try metrics.expectTimer("redis_command_duration", [("command", "LPUSH")]).values.count == 2)
        #expect(try metrics.expectTimer("redis_command_duration", [("command", "PIPELINE")]).values.count == 1)
        #expect(try metrics.expectTimer("redis_command_duration", [("command", "TRANSACTION")]).values.count == 1)
        // No dimension holds the key or a made-up command name.
        let dimensions = metrics.counters.flatMap(\.dimensions) + metrics.timers.flatMap(\.dimensions)
        #expect(!dimensions.contains { $0.1.contains("test:") || $0.1.contains("NOSUCH") }, "\(dimensions)")
    }

    @Test func aCallThatThrowsIsCountedByItsKind() async throws {
        let metrics = TestMetrics()
        var configuration = try TestServer.configuration()
        configuration.endpoint = .unixSocket(path: "/nonexistent/\(UUID().uuidString).sock")
        try await withClient(configuration: configuration, observability: .metrics(metrics)) { client in
            await expectRedisError(.connectionRefused) { try await client.send("PING") }
        }
        #expect(try metrics.expectCounter("redis_command_errors_total", [("kind", "connection_refused")]).totalValue == 1)
        #expect(try metrics.expectCounter("redis_commands_total", [("command", "PING")]).totalValue == 1)
    }

    @Test func aWaitForAPoolSlotIsCountedAndTimed() async throws {
        let metrics = TestMetrics()
        try await withClient({ $0.pool.size = 1; $0.pool.maxPipelinedRequests = 1 }, observability: .metrics(metrics)) { client in
            let pool = try client.pool.get()
            let (gate, open) = AsyncStream<Void>.makeStream()
            let holder = Task { try await pool.holdingSlot { for await _ in gate {} } }
            try await waitUntil { pool.slotsInUse == 1 }
            let waiting = Task { try await client.send("PING") }
            try await waitUntil { pool.waitingCallers == 1 }
            #expect(metrics.counters(label: "redis_pool_waits_total").allSatisfy { $0.totalValue == 0 })
            open.finish()
            try await holder.value
            #expect(try await waiting.value.string == "PONG")
        }
        #expect(try metrics.expectCounter("redis_pool_waits_total").totalValue == 1)
        #expect(try metrics.expectTimer("redis_pool_wait_duration").values.count == 1)
    }

    @Test func aReconnectIsCounted() async throws {
        let metrics = TestMetrics()
        try await withClient({ $0.pool.size = 1 }, observability: .metrics(metrics)) { client in
            guard let id = try await client.send("CLIENT", "ID").int else { Issue.record("no CLIENT ID"); return }
            #expect(metrics.counters(label: "redis_reconnects_total").allSatisfy { $0.totalValue == 0 })
            try await withClient { killer in _ = try await killer.send("CLIENT", "KILL", "ID", id) }
            // The next call finds the connection closed and reconnects (or fails once, and the one after reconnects).
            var answered = false
            for _ in 0..<2 where !answered { answered = (try? await client.send("PING"))?.string == "PONG" }
            #expect(answered)
        }
        #expect(try metrics.expectCounter("redis_reconnects_total").totalValue == 1)
    }
    #endif

    #if DistributedTracingSupport
    @Test func eachCallIsAClientSpanWithoutArguments() async throws {
        let tracer = InMemoryTracer()
        let key = TestServer.key()
        var observability = RedisClient.Observability()
        observability.tracer = tracer
        try await withClient(observability: observability) { client in
            try await client.send("LPUSH", key, "secret-value")
            await expectRedisError(.server(.wrongType)) { try await client.send("HGET", key, "field") }
            _ = try await client.pipeline([RedisCommand("LLEN", key), RedisCommand("DEL", key)])
        }
        let spans = tracer.finishedSpans
        #expect(spans.map(\.operationName) == ["LPUSH", "HGET", "PIPELINE"])
        #expect(spans.allSatisfy { $0.kind == .client })
        let push = spans[0]
        #expect(push.attributes.get("db.system.name") == .string("redis"))
        #expect(push.attributes.get("db.operation.name") == .string("LPUSH"))
        #expect(push.attributes.get("server.address") != nil)
        #expect(push.status == nil && push.errors.isEmpty)
        #expect(spans[1].status?.code == .error)
        #expect(spans[1].attributes.get("error.type") == .string("server_WRONGTYPE"))
        #expect(spans[2].attributes.get("db.operation.batch.size") == .int64(2))
        for span in spans {
            span.attributes.forEach { name, value in
                #expect(!"\(value)".contains(key) && !"\(value)".contains("secret-value"), "\(name)")
            }
        }
    }
    #endif

    @Test func aCallsOwnLoggerGetsItsLinesWithMetadata() async throws {
        let clientLog = LogCapture(), callLog = LogCapture()
        var callLogger = callLog.logger()
        callLogger[metadataKey: "request"] = "r-42"
        try await withClient(logger: clientLog.logger()) { client in
            try await client.send("PING", logger: callLogger)
            await expectRedisError(.server(.generic)) { try await client.send("NOSUCHCOMMAND", logger: callLogger) }
            _ = try await client.pipeline([RedisCommand("PING")], logger: callLogger)
            _ = try await client.transaction([RedisCommand("PING")], logger: callLogger)
            let script = RedisScript("return 1 -- \(UUID().uuidString)")
            #expect(try await client.evaluate(script, logger: callLogger) == .integer(1))
        }
        let lines = callLog.lines
        // PING, NOSUCHCOMMAND (an error reply), PING, TRANSACTION, EVALSHA (NOSCRIPT), SCRIPT LOAD + EVALSHA.
        #expect(lines.filter { $0.hasPrefix("trace redis call") }.count == 6, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("trace redis call") && $0.contains("\"redis.command\": PIPELINE") })
        #expect(lines.contains { $0.hasPrefix("debug script not cached") })
        #expect(lines.contains { $0.hasPrefix("trace redis call") && $0.contains("\"redis.command\": PING")
                && $0.contains("\"request\": r-42") && $0.contains("redis.endpoint") && $0.contains("redis.connection") })
        #expect(lines.contains { $0.hasPrefix("trace redis call") && $0.contains("\"redis.command\": TRANSACTION") })
        #expect(lines.contains { $0.hasPrefix("trace redis call") && $0.contains("\"redis.command\": OTHER") && $0.contains("\"redis.failed\": 1") })
        #expect(!clientLog.lines.contains { $0.contains("redis call") || $0.contains("script not cached") }, "\(clientLog.lines)")
    }

    @Test func theLibraryLogsAtDebugAndTraceOnly() async throws {
        let capture = LogCapture()
        // An invalid configuration, a refused connection, a server error, a broken connection.
        var invalid = try TestServer.configuration()
        invalid.pool.size = 0
        try await withClient(configuration: invalid, logger: capture.logger()) { client in
            await expectRedisError(.invalidConfiguration) { try await client.send("PING") }
        }
        var refused = try TestServer.configuration()
        refused.endpoint = .unixSocket(path: "/nonexistent/\(UUID().uuidString).sock")
        try await withClient(configuration: refused, logger: capture.logger()) { client in
            await expectRedisError(.connectionRefused) { try await client.send("PING") }
        }
        try await withClient({ $0.pool.size = 1 }, logger: capture.logger()) { client in
            await expectRedisError(.server(.generic)) { try await client.send("NOSUCHCOMMAND") }
            guard let id = try await client.send("CLIENT", "ID").int else { return }
            try await withClient { killer in _ = try await killer.send("CLIENT", "KILL", "ID", id) }
            for _ in 0..<2 { _ = try? await client.send("PING") }
        }
        let lines = capture.lines
        #expect(lines.contains { $0.contains("connect failed") } && lines.contains { $0.contains("invalid Redis configuration") })
        #expect(lines.allSatisfy { $0.hasPrefix("debug ") || $0.hasPrefix("trace ") }, "\(lines.filter { !$0.hasPrefix("debug ") && !$0.hasPrefix("trace ") })")
    }
}

#if MetricsSupport
extension RedisClient.Observability {
    /// Metrics to `metrics`, spans to the default.
    static func metrics(_ metrics: TestMetrics) -> Self {
        var observability = Self()
        observability.metricsFactory = metrics
        return observability
    }
}
#endif
