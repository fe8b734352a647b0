import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if TLS
import CHiredisTLS
#endif

/// TLS on a hiredis context, through hiredis_ssl (builds with the package trait TLS). Like every
/// call on the context, these run on the connection's I/O thread only.
extension HiredisContext {
    /// Runs the TLS handshake on the freshly connected context, bounded by the connect timeout
    /// (0: none), and keeps the session for ``peerClosed``. The configuration has passed
    /// ``RedisConfiguration/validate()``, which refuses TLS in a build without it.
    func startTLS(_ tls: RedisConfiguration.TLS, configuration: RedisConfiguration, handshakeMillis: Int) throws(RedisError) {
        #if TLS
        guard case .tcp(let host, _) = configuration.endpoint else {
            throw RedisError(.invalidConfiguration, "TLS needs a TCP endpoint, not a Unix socket")
        }
        let endpoint = configuration.endpoint
        if handshakeMillis > 0, chr_set_command_timeout(context, handshakeMillis) != REDIS_OK {
            throw RedisError(.io, "cannot set the handshake timeout on \(endpoint)")
        }
        let serverName = tls.serverName ?? host
        var session: OpaquePointer?
        var verifyResult = 0
        var reason = [CChar](repeating: 0, count: 256)
        let reasonCount = reason.count
        let status = withCStrings([tls.caFile, tls.caFolder, tls.certificateFile, tls.privateKeyFile,
                                   tls.privateKeyPassphrase, serverName]) { strings in
            var options = chr_tls_options(
                ca_file: strings[0], ca_path: strings[1], cert_file: strings[2], key_file: strings[3],
                key_passphrase: strings[4], server_name: strings[5], verify: tls.insecureSkipVerification ? 0 : 1)
            return reason.withUnsafeMutableBufferPointer { buffer in
                chr_tls_connect(context, &options, &session, &verifyResult, buffer.baseAddress, reasonCount)
            }
        }
        chr_discard_pending_sigpipe()
        let detail = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let because = detail.isEmpty ? "" : ": \(detail)"
        switch status {
        case CHR_TLS_OK:
            tlsSession = session
        case CHR_TLS_CA:
            let source = [tls.caFile.map { "tls.caFile '\($0)'" }, tls.caFolder.map { "tls.caFolder '\($0)'" }]
                .compactMap { $0 }.joined(separator: " and ")
            throw RedisError(.invalidConfiguration, "cannot load the TLS CA certificates from \(source.isEmpty ? "the system's trust store" : source)\(because)")
        case CHR_TLS_CERTIFICATE:
            throw RedisError(.invalidConfiguration, "cannot load the TLS client certificate tls.certificateFile '\(tls.certificateFile ?? "")'\(because)")
        case CHR_TLS_KEY:
            throw RedisError(.invalidConfiguration,
                             "cannot load the TLS client key tls.privateKeyFile '\(tls.privateKeyFile ?? "")' (unreadable, encrypted without the right passphrase, or not the certificate's key)\(because)")
        case CHR_TLS_SERVER_NAME:
            throw RedisError(.invalidConfiguration, "cannot use '\(serverName)' as the TLS server name\(because)")
        case CHR_TLS_HANDSHAKE:
            throw handshakeError(endpoint: endpoint, serverName: serverName, verifyResult: verifyResult, detail: detail)
        default:
            throw RedisError(.io, "cannot start TLS with \(endpoint)\(because)")
        }
        #else
        throw RedisError(.invalidConfiguration, RedisConfiguration.tlsUnavailableMessage)
        #endif
    }

    #if TLS
    private func handshakeError(endpoint: RedisConfiguration.Endpoint, serverName: String, verifyResult: Int, detail: String) -> RedisError {
        let hiredisText = Self.errorText(context)
        if verifyResult != 0 /* X509_V_OK */ {
            let verdict = String(cString: chr_tls_verify_text(verifyResult))
            return RedisError(.io, "TLS: the certificate of \(endpoint) was refused: \(verdict) "
                + "(it must chain to tls.caFile/tls.caFolder, or the system's CAs, and name '\(serverName)')")
        }
        if hiredisText.contains("Resource temporarily unavailable") || hiredisText.lowercased().contains("timed out") {
            return RedisError(.timeout, "TLS handshake with \(endpoint) timed out (\(hiredisText))")
        }
        let why = detail.isEmpty ? hiredisText : "\(hiredisText) (\(detail))"
        if detail.contains("wrong version number") || detail.contains("packet length too long") {
            return RedisError(.protocolError, "TLS handshake with \(endpoint) failed: \(why); is that port speaking TLS?")
        }
        return RedisError(.io, "TLS handshake with \(endpoint) failed: \(why)")
    }
    #endif

    /// ``peerClosed`` for a TLS connection: reads waiting TLS records (session tickets) without blocking.
    func tlsPeerClosed(_ session: OpaquePointer) -> Bool {
        #if TLS
        let closed = chr_tls_peer_closed(context, session) != 0
        chr_discard_pending_sigpipe()
        return closed
        #else
        return true
        #endif
    }

    /// OpenSSL's reason for the last failed TLS read or write, as " (TLS: reason)"; "" over plain TCP.
    func tlsErrorDetail() -> String {
        #if TLS
        guard tlsSession != nil else { return "" }
        var reason = [CChar](repeating: 0, count: 256)
        let count = reason.count
        reason.withUnsafeMutableBufferPointer { chr_tls_take_error($0.baseAddress, count) }
        let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "" : " (TLS: \(text))"
        #else
        return ""
        #endif
    }
}

#if TLS
/// Calls `body` with C copies of the strings (NULL for `nil`), valid during the call; the copies
/// are zeroed (one may be the key's passphrase) and freed afterwards.
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { string in string.flatMap { strdup($0) } }
    defer {
        for copy in copies {
            guard let copy else { continue }
            memset(copy, 0, strlen(copy))
            free(copy)
        }
    }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
#endif
