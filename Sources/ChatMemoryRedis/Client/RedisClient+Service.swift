#if ServiceLifecycleSupport
import ServiceLifecycle

/// With the `ServiceLifecycleSupport` trait (on by default), the client is a `Service`: add it
/// to the application's `ServiceGroup` and it is shut down when the group shuts down.
///
/// ```swift
/// let client = RedisClient(configuration: try .fromEnvironment(), logger: logger)
/// let group = ServiceGroup(services: [client, server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()   // on SIGTERM: the server stops first, then the client closes
/// ```
///
/// A group shuts its services down in reverse order, so list the client before the services
/// that use it: they finish their requests while it is still open.
extension RedisClient: Service {
    /// Waits until the service group shuts down gracefully, or the task is cancelled, and then
    /// closes the client as ``shutdown()`` does. The client serves calls until then; `run()`
    /// itself opens nothing.
    public func run() async throws {
        // Throws CancellationError when the group is cancelled: close the client all the same.
        try? await gracefulShutdown()
        await shutdown()
    }
}
#endif
