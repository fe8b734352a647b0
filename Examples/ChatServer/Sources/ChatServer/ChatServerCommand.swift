import ArgumentParser
import ChatMemory
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `chat-server [--port N] [--host A] [--store redis|embedded] [--worker NAME] [--tokens N]
/// [--max-body-bytes N] [--max-content-bytes N] [--read-timeout S]`
///
/// Environment: `PORT`, `WORKER_NAME`, `REDIS_URL` (default `redis://127.0.0.1:6379`),
/// `LOG_LEVEL`, `CHAT_REPLICAS` (replicas each append waits for). Every setting is checked before the worker starts: a bad one exits with code 64.
/// Stops gracefully on SIGTERM and SIGINT: in-flight requests finish, then Redis is closed.
@main
struct ChatServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-server",
        abstract: "A chat server whose conversations live in Redis, so any worker can answer any turn.")

    @Option(help: "The port to listen on (default: $PORT, else 8080).")
    var port: Int?

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Where conversations live: redis (shared by all workers) or embedded (this process only).")
    var store: StoreKind = .redis

    @Option(help: "This worker's name, sent in the X-Worker header (default: $WORKER_NAME, else worker-<pid>).")
    var worker: String?

    @Option(help: "The token budget of the window the model is shown (64 to 1000000); a longer message is refused.")
    var tokens = 4000

    @Option(help: "The largest request body in bytes; a larger one is refused with 413 before it is read.")
    var maxBodyBytes = 64 * 1024

    @Option(help: "The largest message content in UTF-8 bytes (at most --max-body-bytes); a larger one is refused with 413.")
    var maxContentBytes = 16 * 1024

    @Option(help: """
        Seconds to wait for a client: for a request head since the connection opened or answered \
        (idle keep-alive, slow headers), and for a request body since its head; then the connection is closed.
        """)
    var readTimeout = 10

    @Option(help: """
        Compact a conversation in the background once its stored tokens pass this (64 to 1000000; \
        default: --tokens; 0 turns compaction off): its oldest messages are folded into a summary \
        that leads every window, so a long conversation stays within the window's budget.
        """)
    var compactAt: Int?

    @Option(help: "Fold messages until those left total at most this many tokens (default: half of --compact-at).")
    var compactTo: Int?

    func run() async throws {
        let settings = try ServerSettings(
            host: host, port: port, store: store, worker: worker, tokens: tokens, maxBodyBytes: maxBodyBytes,
            maxContentBytes: maxContentBytes, readTimeout: readTimeout, compactAt: compactAt, compactTo: compactTo,
            environment: ProcessInfo.processInfo.environment)
        let logger = Self.logger(worker: settings.worker, level: settings.logLevel)

        // The summary is kept to about a third of the threshold's tokens (2 to 4 characters each),
        // so the summary and the newest messages, which are never folded, fit under it.
        let model = RecallingModel(summaryCharacters: (settings.compaction?.thresholdTokens ?? 2_000) * 3 / 4)
        let backend = try ChatStoreBackend(redis: settings.redis, replication: settings.replication, compaction: settings.compaction,
                                           summarizer: model, logger: logger)
        let conversation = Conversation(memory: backend.memory, counter: backend.counter, model: model,
                                        worker: settings.worker, tokenLimit: settings.limits.tokens)
        let router = Router()
        router.add(middleware: WorkerMiddleware(worker: settings.worker))
        ChatRoutes(conversation: conversation, limits: settings.limits, storeName: settings.store.rawValue).add(to: router)

        let address = "\(settings.host):\(settings.port)"
        // Hummingbird's idle timeout closes a connection without a complete request head (it
        // counts decoded requests, not bytes, so a slowloris trickle doesn't reset it); the body
        // has its own deadline.
        let clientTimeout = TimeAmount.seconds(Int64(settings.readTimeout))
        var app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [BodyReadDeadline(timeout: clientTimeout)], idleTimeout: clientTimeout)),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "chat-server"),
            onServerRunning: { _ in logger.info("listening", metadata: ["address": "\(address)", "store": "\(settings.store.rawValue)"]) },
            logger: logger)
        // The service group shuts its services down in reverse order: the HTTP server (last)
        // answers its last request before the Redis client (added here, before it) closes.
        app.addServices(backend.services)
        try await app.runService()
        logger.info("stopped")
    }

    private static func logger(worker: String, level: Logger.Level) -> Logger {
        var logger = Logger(label: "chat-server.\(worker)")
        logger.logLevel = level
        return logger
    }
}
