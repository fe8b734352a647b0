import ArgumentParser
import ChatMemory
import Foundation
import Hummingbird
import Logging

/// `chat-server [--port N] [--store redis|embedded] [--worker NAME] [--tokens N]`
///
/// Environment: `PORT`, `WORKER_NAME`, `REDIS_URL` (default `redis://127.0.0.1:6379`),
/// `LOG_LEVEL`. Stops gracefully on SIGTERM and SIGINT.
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

    @Option(help: "The token budget of the window the model is shown.")
    var tokens = 4000

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let workerName = worker ?? environment["WORKER_NAME"] ?? "worker-\(getpid())"
        let port = port ?? environment["PORT"].flatMap { Int($0) } ?? 8080
        guard (1...65535).contains(port) else {
            throw ValidationError("the port must be between 1 and 65535")
        }
        let logger = Self.logger(worker: workerName, level: environment["LOG_LEVEL"])

        let backend = try ChatStoreBackend(kind: store, worker: workerName, logger: logger)
        let conversation = Conversation(memory: backend.memory, model: RecallingModel(), worker: workerName, tokenLimit: tokens)
        let router = Router()
        router.add(middleware: WorkerMiddleware(worker: workerName))
        ChatRoutes(conversation: conversation, storeName: store.rawValue).add(to: router)

        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "chat-server"),
            onServerRunning: { _ in logger.info("listening", metadata: ["address": "\(host):\(port)", "store": "\(store.rawValue)"]) },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            await backend.shutdown()
            throw error
        }
        await backend.shutdown()
        logger.info("stopped")
    }

    private static func logger(worker: String, level: String?) -> Logger {
        var logger = Logger(label: "chat-server.\(worker)")
        logger.logLevel = level.flatMap { Logger.Level(rawValue: $0) } ?? .info
        return logger
    }
}
