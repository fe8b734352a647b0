import CHiredis

/// One hiredis connection, used by its ``RedisConnection``'s I/O thread from connecting to
/// `redisFree`, or by a caller it lends the connection to for a round trip in place: one user at
/// a time. Every hiredis write happens on the I/O thread, which blocks SIGPIPE (a caller's own
/// `send` asks the system not to raise it). It
/// connects, authenticates, and runs pipelines; hiredis's reader builds every reply straight
/// into a ``RedisValue`` (``ReplyBuilder``), taken and released right there, exactly once.
final class HiredisContext {
    let context: UnsafeMutablePointer<redisContext>
    /// The OpenSSL session of a TLS connection (owned by hiredis, freed by `redisFree`); `nil` over plain TCP.
    var tlsSession: OpaquePointer?
    /// Set once a read or write failed: the stream is out of step and the context must be dropped.
    fileprivate(set) var isBroken = false
    /// The socket's read and write timeout set while connecting, in milliseconds (0: none).
    private(set) var socketTimeoutMilliseconds = 0
    /// The timer that bounds a caller's wait in place (opened on the first such wait; -1: not
    /// yet, or none on this system), and when it expires.
    private var waitTimerDescriptor: Int32 = -1
    private var waitTimerOpened = false
    private var waitTimer = ReplyWaitTimer()

    /// Connects, runs the TLS handshake when configured, sets the command timeout, then sends
    /// AUTH, SELECT and CLIENT SETNAME as needed. Each phase takes at most its configured timeout
    /// (connect, or command for the handshake's commands), and all of them end by `deadline`.
    /// The configuration has passed ``RedisConfiguration/validate()``.
    init(configuration: RedisConfiguration, deadline: ContinuousClock.Instant? = nil) throws(RedisError) {
        let connectMillis = try Self.phaseLimit(configuration.connectTimeout, deadline: deadline)?.clampedMilliseconds ?? 0
        let pointer: UnsafeMutablePointer<redisContext>?
        switch configuration.endpoint {
        case .tcp(let host, let port):
            // Validated: 1...65535.
            pointer = chr_connect_tcp(host, Int32(clamping: port), connectMillis)
        case .unixSocket(let path):
            pointer = chr_connect_unix(path, connectMillis)
        }
        guard let pointer else { throw RedisError(.io, "out of memory connecting to \(configuration.endpoint)") }
        if pointer.pointee.err != 0 {
            let error = Self.connectError(pointer, endpoint: configuration.endpoint)
            redisFree(pointer)
            throw error
        }
        context = pointer
        chr_use_reply_builders(context)
        chr_no_sigpipe_on_socket(context)
        if let tls = configuration.tls {
            let handshakeMillis = try Self.phaseLimit(configuration.connectTimeout, deadline: deadline)?.clampedMilliseconds ?? 0
            try startTLS(tls, configuration: configuration, handshakeMillis: handshakeMillis)
        }
        // After a TLS handshake bounded by the connect timeout, `nil` must clear that bound.
        let commandMillis = try Self.phaseLimit(configuration.commandTimeout, deadline: deadline)?.clampedMilliseconds
            ?? (configuration.tls == nil ? nil : 0)
        if let commandMillis, chr_set_command_timeout(context, commandMillis) != REDIS_OK {
            throw RedisError(.io, "cannot set the command timeout on \(configuration.endpoint)")
        }
        socketTimeoutMilliseconds = commandMillis ?? 0
        try handshake(configuration)
    }

    /// How long one phase of a connect may take: its configured timeout, cut to the time left
    /// until `deadline` (`nil`: no limit). A deadline already past is a timeout: nothing was sent.
    static func phaseLimit(_ configured: Duration?, deadline: ContinuousClock.Instant?) throws(RedisError) -> Duration? {
        guard let deadline else { return configured }
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else {
            throw RedisError(.timeout, "connecting took the whole command timeout; nothing was sent", mayHaveRun: false)
        }
        return min(configured ?? left, left)
    }

    deinit {
        chr_timer_close(waitTimerDescriptor)
        redisFree(context)
    }

    /// True when the server closed this idle connection (or it failed) since it was last used.
    var peerClosed: Bool {
        if let tlsSession { return tlsPeerClosed(tlsSession) }
        return chr_peer_closed(context) != 0
    }

    /// Whether commands may be written to ``socket`` directly, from any thread (a plain TCP or
    /// Unix connection); TLS goes through hiredis, on the I/O thread.
    var isPlain: Bool { tlsSession == nil }

    /// Sends all commands in one write and reads their replies in order. Server error replies come
    /// back as `.failure`; a broken connection throws, leaving the context broken.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [Result<RedisValue, RedisError>] {
        try appendEncoded(RESPEncoding.encode(commands))
        var results: [Result<RedisValue, RedisError>] = []
        results.reserveCapacity(commands.count)
        for _ in commands { results.append(try readReply()) }
        return results
    }

    /// Queues commands already in RESP form in hiredis's output buffer, written by the next
    /// ``readReply()``.
    func appendEncoded(_ bytes: [UInt8]) throws(RedisError) {
        guard !bytes.isEmpty else { return }
        let status = bytes.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return REDIS_OK }
            return chr_append_formatted(context, base.assumingMemoryBound(to: CChar.self), raw.count)
        }
        guard status == REDIS_OK else {
            isBroken = true
            throw RedisError(.io, "cannot queue a command: \(errorText)")
        }
    }

    /// Flushes pending output if needed and reads the next reply, blocking (up to the socket's
    /// timeout); a RESP3 push on the way is skipped.
    func readReply() throws(RedisError) -> Result<RedisValue, RedisError> {
        while true {
            var reply: UnsafeMutableRawPointer?
            var errnoValue: Int32 = 0
            guard chr_get_reply(context, &reply, &errnoValue) == REDIS_OK, let reply else {
                isBroken = true
                throw ioError(errnoValue: errnoValue)
            }
            if let result = Self.take(reply) { return result }
        }
    }

    /// Waits until the socket is readable (true) or `end` passes (false; or an interrupted
    /// wait, which the caller retries while time is left): a caller's wait in place. The bound is
    /// the connection's timer (see ``ReplyWaitTimer``), else `poll`'s own timeout.
    func waitReadable(until end: ContinuousClock.Instant) -> Bool {
        let now = ContinuousClock.now
        guard now < end else { return false }
        if !waitTimerOpened {
            waitTimerOpened = true
            waitTimerDescriptor = chr_timer_open()
        }
        if waitTimerDescriptor >= 0 {
            var ready: Int32 = 0
            if let timeout = waitTimer.arming(until: end, now: now), chr_timer_arm(waitTimerDescriptor, timeout.wholeMicrosecondsRoundedUp) != 0 {
                // Cannot arm it (never expected): poll's own timeout from now on.
                waitTimer.expired()
                chr_timer_close(waitTimerDescriptor)
                waitTimerDescriptor = -1
                return waitReadable(until: end)
            }
            let result = chr_wait_socket_or_timer(socket, waitTimerDescriptor, &ready)
            if ready & 2 != 0 { waitTimer.expired() }
            return result > 0 && ready & 1 != 0
        }
        var events: Int16 = 0
        return chr_wait_socket(socket, Int16(POLLIN), now.duration(to: end).wholeMicrosecondsRoundedUp, &events) > 0
    }

    /// Reads what the socket holds now into hiredis's reader (one read; the caller polled first).
    func readAvailable() throws(RedisError) {
        var errnoValue: Int32 = 0
        guard chr_buffer_read(context, &errnoValue) == REDIS_OK else {
            isBroken = true
            throw ioError(errnoValue: errnoValue)
        }
    }

    /// Whether this hiredis reads RESP3 replies (1.x does; 0.14 fails on them with a protocol
    /// error), for tests that need a push.
    static var readsRESP3: Bool { chr_hiredis_major() >= 1 }

    /// The next reply already read in full, or `nil` until more arrives (a RESP3 push is skipped).
    func bufferedReply() throws(RedisError) -> Result<RedisValue, RedisError>? {
        while true {
            var reply: UnsafeMutableRawPointer?
            guard chr_buffered_reply(context, &reply) == REDIS_OK else {
                isBroken = true
                throw ioError(errnoValue: 0)
            }
            guard let reply else { return nil }
            if let result = Self.take(reply) { return result }
        }
    }

    /// A reply as a result (a server error is a failure), or `nil` for a push; releases it.
    private static func take(_ reply: UnsafeMutableRawPointer) -> Result<RedisValue, RedisError>? {
        guard let value = ReplyBuilder.take(reply) else { return nil }
        if case .error(let error) = value { return .failure(error) }
        return .success(value)
    }

    // MARK: - Connecting

    private func handshake(_ configuration: RedisConfiguration) throws(RedisError) {
        var commands: [RedisCommand] = []
        if let credentials = configuration.credentials {
            if let user = credentials.username {
                commands.append(RedisCommand("AUTH", user, credentials.password))
            } else {
                commands.append(RedisCommand("AUTH", credentials.password))
            }
        }
        if configuration.database != 0 { commands.append(RedisCommand("SELECT", configuration.database)) }
        if let name = configuration.clientName { commands.append(RedisCommand("CLIENT", "SETNAME", name)) }
        guard !commands.isEmpty else { return }
        for (command, result) in zip(commands, try pipeline(commands)) {
            if case .failure(let error) = result {
                // The server's message is safe to show: it never echoes the password.
                throw RedisError(error.code, "\(command.name) failed on \(configuration.endpoint): \(error.message)")
            }
        }
    }

    private static func connectError(_ context: UnsafeMutablePointer<redisContext>, endpoint: RedisConfiguration.Endpoint) -> RedisError {
        let text = errorText(context)
        let lowered = text.lowercased()
        if lowered.contains("refused") || lowered.contains("no such file") {
            return RedisError(.connectionRefused, "cannot connect to \(endpoint): \(text)")
        }
        if lowered.contains("timed out") || lowered.contains("timeout") || lowered.contains("in progress") {
            return RedisError(.timeout, "connecting to \(endpoint) timed out: \(text)")
        }
        return RedisError(.io, "cannot connect to \(endpoint): \(text)")
    }

    // MARK: - Errors

    fileprivate var errorText: String { Self.errorText(context) }

    static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A failed write or read: what was written may have run.
    private func ioError(errnoValue: Int32) -> RedisError {
        let tlsDetail = tlsErrorDetail()
        let text = errorText + tlsDetail
        switch chr_classify(context, errnoValue) {
        case CHR_ERR_TIMEOUT: return RedisError(.timeout, "no reply within the command timeout (\(text))", mayHaveRun: true)
        case CHR_ERR_EOF: return RedisError(.connectionClosed, "the server closed the connection" + tlsDetail, mayHaveRun: true)
        case CHR_ERR_PROTOCOL: return RedisError(.protocolError, text, mayHaveRun: true)
        default:
            if errnoValue == ECONNRESET || errnoValue == EPIPE { return RedisError(.connectionClosed, text, mayHaveRun: true) }
            return RedisError(.io, text.isEmpty ? "I/O error" : text, mayHaveRun: true)
        }
    }
}

// MARK: - Socket settings, after connecting

extension HiredisContext {
    /// The connection's socket descriptor.
    var socket: Int32 { Int32(context.pointee.fd) }

    /// Turns on TCP keepalive (hiredis's interval, 15 s on 0.14 and 1.x), so a server that
    /// vanished without closing the connection is noticed even while waiting without a timeout.
    /// TCP only. False when the system refused, which leaves the context unusable.
    func enableKeepAlive() -> Bool {
        redisEnableKeepAlive(context) == REDIS_OK
    }

    /// Sets the read and write timeout (0: none).
    func setTimeout(milliseconds: Int) throws(RedisError) {
        guard chr_set_command_timeout(context, milliseconds) == REDIS_OK else {
            isBroken = true
            throw RedisError(.io, "cannot set the socket timeout: \(errorText)", mayHaveRun: true)
        }
    }
}
