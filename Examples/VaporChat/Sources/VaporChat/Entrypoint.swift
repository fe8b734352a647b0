import ChatMemory
import Foundation
import Vapor

/// `vapor-chat [serve [--hostname A] [--port N]] [--log LEVEL]`
///
/// Environment: `WORKER_NAME`, `PORT`, `REDIS_URL` (default `redis://127.0.0.1:6379`),
/// `LOG_LEVEL`. A bad setting stops the worker before it starts, with a message on stderr and
/// exit code 64. SIGTERM and SIGINT stop it gracefully: the HTTP server finishes its requests,
/// then the Redis client is closed (``RedisClientLifecycle``), and it exits 0.
@main
enum Entrypoint {
    static func main() async {
        var environment: Environment
        let settings: WorkerSettings
        do {
            environment = try Environment.detect()
            try LoggingSystem.bootstrap(from: &environment)
            settings = try WorkerSettings(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("vapor-chat: \(error)\n".utf8))
            exit(64)
        }

        let app: Application
        do {
            app = try await Application.make(environment)
        } catch {
            FileHandle.standardError.write(Data("vapor-chat: could not start: \(error)\n".utf8))
            exit(1)
        }
        var failed = false
        do {
            try await configure(app, settings)
            // Serves until SIGTERM or SIGINT (Vapor's `serve` command, the default).
            try await app.execute()
        } catch {
            app.logger.critical("stopped by an error", metadata: ["error": "\(error)"])
            failed = true
        }
        // Runs the lifecycle handlers once: the HTTP server stops, then the Redis client closes.
        do {
            try await app.asyncShutdown()
        } catch {
            app.logger.error("shutdown failed", metadata: ["error": "\(error)"])
            failed = true
        }
        if failed { exit(1) }
    }

    /// Opens the chat memory (tied to the application's lifecycle) and adds the routes.
    static func configure(_ app: Application, _ settings: WorkerSettings) async throws {
        app.logger[metadataKey: "worker"] = "\(settings.worker)"
        if let port = settings.port { app.http.server.configuration.port = port }

        let configuration = ChatMemoryConfiguration()
        let memory = try await app.useRedisChatMemory(redis: settings.redis, configuration: configuration)
        // The endpoint only: the configuration's credentials are never logged.
        app.logger.info("chat memory in Redis", metadata: ["redis": "\(settings.redis.topology == .standalone ? "\(settings.redis.endpoint)" : "\(settings.redis.topology)")", "db": "\(settings.redis.database)"])

        // Vapor's default ErrorMiddleware answers `{"error": true, "reason": ...}`; this one
        // answers the stable codes of ``APIError`` and names the worker in every response.
        app.middleware = Middlewares()
        app.middleware.use(RouteLoggingMiddleware(logLevel: .debug))
        app.middleware.use(WorkerMiddleware(worker: settings.worker))

        let conversation = Conversation(memory: memory, counter: configuration.tokenCounter, model: RecallingModel(), worker: settings.worker,
                                        tokenLimit: settings.limits.tokens)
        try app.register(collection: ChatController(conversation: conversation, limits: settings.limits))
    }
}
