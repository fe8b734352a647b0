import Foundation
import Logging
import ChatMemoryRedis
@testable import ChatMemory
import Testing
#if DistributedTracingSupport
import InMemoryTracing
import Tracing
#endif

/// Spans around appends and window reads (parents of their Redis calls), per-call loggers, and
/// a session's lines at debug and trace only.
@Suite(.timeLimit(.minutes(2))) struct SessionObservabilityTests {
    #if DistributedTracingSupport
    @Test func appendsAndWindowReadsAreSpansAroundTheirRedisCalls() async throws {
        let tracer = InMemoryTracer()
        var observability = RedisClient.Observability()
        observability.tracer = tracer
        let client = RedisClient(configuration: try storeTestRedisConfiguration(), observability: observability)
        var configuration = ChatMemoryConfiguration()
        configuration.keyPrefix = "test-chat-\(UUID().uuidString.prefix(8)):"
        configuration.tokenCounter = ApproximateTokenCounter()
        let memory = try RedisChatMemory(client: client, configuration: configuration)
        let chat = memory.session("traced")
        let turns = storeTestTurns(3)
        try await chat.append(contentsOf: turns)
        try await chat.append(contentsOf: turns)   // a retry: all duplicates
        let window = try await chat.window(tokenLimit: 100_000)
        try await chat.clear()
        await client.shutdown()

        let spans = tracer.finishedSpans
        let appends = spans.filter { $0.operationName == "chat.append" }
        let reads = spans.filter { $0.operationName == "chat.window" }
        #expect(appends.count == 2 && reads.count == 1)
        #expect(appends[0].attributes.get("chat.session") == .string("traced"))
        #expect(appends[0].attributes.get("chat.messages") == .int64(3))
        #expect(appends[0].attributes.get("chat.appended") == .int64(3))
        #expect(appends[1].attributes.get("chat.duplicates") == .int64(3))
        #expect(reads[0].attributes.get("chat.window.messages") == .int64(Int64(window.messages.count)))
        #expect(reads[0].attributes.get("chat.token_limit") == .int64(100_000))
        // Each Redis call is a child of the chat span that made it.
        for parent in appends + reads {
            let children = spans.filter { $0.parentSpanID == parent.spanID }
            #expect(!children.isEmpty && children.allSatisfy { $0.kind == .client }, "\(parent.operationName)")
        }
        #expect(spans.contains { $0.operationName == "EVALSHA" && appends.map(\.spanID).contains($0.parentSpanID ?? "") })
        // A window led by the summary reads the head and the oldest entry in one pipeline of LRANGEs.
        #expect(spans.contains { ["LRANGE", "PIPELINE"].contains($0.operationName) && $0.parentSpanID == reads[0].spanID })
    }

    @Test func aFailedWindowReadRecordsItsError() async throws {
        let tracer = InMemoryTracer()
        var observability = RedisClient.Observability()
        observability.tracer = tracer
        let client = RedisClient(configuration: try storeTestRedisConfiguration(), observability: observability)
        let memory = try RedisChatMemory(client: client)
        let chat = memory.session(try SessionID("traced-\(UUID().uuidString)"))
        await #expect(throws: ChatMemoryError.self) { try await chat.window(tokenLimit: 10, reserving: 20) }
        await client.shutdown()
        let read = try #require(tracer.finishedSpans.first { $0.operationName == "chat.window" })
        #expect(read.status?.code == .error && !read.errors.isEmpty)
    }
    #endif

    @Test(arguments: [StoreKind.redis, .embedded])
    func aForeignEntryIsLoggedAtDebugToTheCallsLoggerWithTheSession(kind: StoreKind) async throws {
        let capture = SessionLogCapture()
        var callLogger = capture.logger()
        callLogger[metadataKey: "request"] = "r-7"
        try await withStore(kind) { store in
            let chat = store.memory.session("with-foreign")
            try await chat.append(.user("hello"))
            if kind == .redis { try await store.redis().send("LPUSH", chat.key, "not json") }
            let window = try await chat.window(tokenLimit: 100_000, logger: callLogger)
            _ = try await chat.all(logger: callLogger)
            #expect(window.skippedEntries == (kind == .redis ? 1 : 0))
        }
        let lines = capture.lines
        #expect(lines.allSatisfy { $0.hasPrefix("debug ") || $0.hasPrefix("trace ") }, "\(lines)")
        if kind == .redis {
            #expect(lines.filter { $0.hasPrefix("debug skipped entries") && $0.contains("\"chat.session\": with-foreign")
                && $0.contains("\"request\": r-7") && $0.contains("\"chat.skipped\": 1") }.count == 2, "\(lines)")
            // The Redis client's lines of the call carry the session too.
            #expect(lines.contains { $0.hasPrefix("trace redis call") && $0.contains("\"chat.session\": with-foreign") }, "\(lines)")
        }
    }

    @Test func aLoggerAboveDebugGetsNoSessionMetadataAndNoLines() async throws {
        let capture = SessionLogCapture()
        var callLogger = capture.logger()
        callLogger.logLevel = .info
        try await withStore(.redis) { store in
            let chat = store.memory.session("quiet")
            try await chat.append(.user("hello"), logger: callLogger)
            try await store.redis().send("LPUSH", chat.key, "not json")
            _ = try await chat.window(tokenLimit: 100_000, logger: callLogger)
            #expect(try await chat.count(logger: callLogger) == 2)
            #expect(try await chat.clear(logger: callLogger))
        }
        #expect(capture.lines.isEmpty, "\(capture.lines)")
    }
}

/// Keeps every log line as "level message [metadata]".
final class SessionLogCapture: Sendable {
    private let storage = Locked<[String]>([])
    var lines: [String] { storage.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "capture") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let capture: SessionLogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.storage.withLock { $0.append("\(event.level) \(event.message) \(all)") }
        }
    }
}

private final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
