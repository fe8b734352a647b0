/// Supplies the credentials for each new connection, for passwords that rotate: short-lived IAM
/// or Entra ID tokens, secrets reloaded from a vault. Given to ``RedisClient/init(configuration:credentialsProvider:logger:observability:)``,
/// it replaces `configuration.credentials`.
///
/// The client asks it every time it opens a connection (pooled or dedicated), on that
/// connection's I/O thread, and waits at most the connect timeout for it. When the server
/// answers `WRONGPASS` (a token that expired meanwhile), the client asks once more and retries
/// with what it gets. Errors it throws fail the call as `.io` (with the error's type, never its
/// text, which could hold a secret) and count as a failed connect.
///
/// ```swift
/// let client = RedisClient(configuration: config, credentialsProvider: {
///     RedisConfiguration.Credentials(username: "chat-app", password: try await tokenSource.currentToken())
/// })
/// ```
public typealias RedisCredentialsProvider = @Sendable () async throws -> RedisConfiguration.Credentials
