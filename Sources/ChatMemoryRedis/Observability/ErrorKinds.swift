/// A bounded, stable name for the kind of an error, for metrics, spans and log metadata (never
/// its message, which may quote the server or a caller).
enum ErrorKinds {
    private static let names: [(code: RedisError.Code, name: String)] = [
        (.connectionRefused, "connection_refused"), (.timeout, "timeout"), (.connectionClosed, "connection_closed"),
        (.io, "io"), (.protocolError, "protocol_error"), (.invalidConfiguration, "invalid_configuration"),
        (.invalidCommand, "invalid_command"), (.requiresDedicatedConnection, "requires_dedicated_connection"),
        (.unexpectedReply, "unexpected_reply"), (.shutdown, "shutdown"),
    ]

    static func kind(of error: any Error) -> String {
        guard let error = error as? RedisError else { return error is CancellationError ? "cancelled" : "other" }
        if let known = names.first(where: { $0.code == error.code }) { return known.name }
        // A server error reply, named by its class ("server_WRONGTYPE"); the message's first word
        // is the class for every reply the client classified itself.
        let server = RedisError.ServerErrorKind(message: error.message)
        guard error.code == .server(server), server != .unknown else { return "server_other" }
        return "server_\(server.rawValue)"
    }
}
