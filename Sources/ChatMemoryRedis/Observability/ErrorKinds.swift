/// A bounded, stable name for the kind of an error, for metrics, spans and log metadata (never
/// its message, which may quote the server or a caller).
enum ErrorKinds {
    private static let names: [(code: RedisError.Code, name: String)] = [
        (.connectionRefused, "connection_refused"), (.timeout, "timeout"), (.connectionClosed, "connection_closed"),
        (.io, "io"), (.protocolError, "protocol_error"), (.invalidConfiguration, "invalid_configuration"),
        (.invalidCommand, "invalid_command"), (.requiresDedicatedConnection, "requires_dedicated_connection"),
        (.unexpectedReply, "unexpected_reply"), (.shutdown, "shutdown"),
    ]

    /// The server error classes named in metrics; any other first word (a script's own, a
    /// module's) is `server_other`, so the dimension stays bounded.
    private static let serverKinds: Set<RedisError.ServerErrorKind> = [
        .generic, .wrongType, .noAuth, .noPermission, .wrongPassword, .readOnly, .outOfMemory, .noScript,
        .moved, .ask, .busy, .busyKey, .tryAgain, .clusterDown, .crossSlot, .loading, .masterDown,
        .execAbort, .noReplicas,
    ]

    static func kind(of error: any Error) -> String {
        guard let error = error as? RedisError else { return error is CancellationError ? "cancelled" : "other" }
        if let known = names.first(where: { $0.code == error.code }) { return known.name }
        // A server error reply, named by its class ("server_WRONGTYPE").
        guard let server = error.code.serverErrorKind, serverKinds.contains(server) else { return "server_other" }
        return "server_\(server.rawValue)"
    }
}
