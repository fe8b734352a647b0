extension RedisConfiguration {
    /// TLS settings: which server certificates to trust, which name they must carry, and the
    /// client's own certificate for servers that require one (mutual TLS).
    ///
    /// ```swift
    /// var config = try RedisConfiguration(url: "rediss://default:s3cret@redis.example.com:6380")
    /// config.tls?.caFile = "/etc/ssl/redis/ca.pem"          // default: the system's trust store
    /// config.tls?.certificateFile = "/etc/ssl/redis/client.pem"
    /// config.tls?.privateKeyFile = "/etc/ssl/redis/client.key"
    /// ```
    ///
    /// The server's certificate is verified by default: it must chain to a trusted CA and name
    /// ``serverName`` (or the endpoint's host), as a DNS name or an IP address. Needs a build with
    /// the package trait `TLS` (see ``RedisConfiguration/isTLSAvailable``). Printing, `dump` and
    /// `Mirror` never show ``privateKeyPassphrase``.
    public struct TLS: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// A PEM file of the CA certificates to trust. With neither this nor ``caFolder``, the
        /// system's trust store is used (what managed services with public certificates need).
        public var caFile: String?
        /// A folder of CA certificates named by their hash (`openssl rehash`).
        public var caFolder: String?
        /// The client's certificate (PEM, the chain after it), for mutual TLS; needs ``privateKeyFile``.
        public var certificateFile: String?
        /// The client's private key (PEM), for mutual TLS; needs ``certificateFile``.
        public var privateKeyFile: String?
        /// The passphrase of an encrypted ``privateKeyFile``. Never shown.
        public var privateKeyPassphrase: String?
        /// The name the server's certificate must carry, also sent as SNI (unless it is an IP
        /// address); `nil` means the endpoint's host.
        public var serverName: String?
        /// `true` accepts ANY certificate from the server, so anyone between the client and the
        /// server can read and change the traffic. For throw-away test setups only.
        public var insecureSkipVerification = false

        public init(caFile: String? = nil, caFolder: String? = nil, certificateFile: String? = nil,
                    privateKeyFile: String? = nil, privateKeyPassphrase: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.caFolder = caFolder
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.privateKeyPassphrase = privateKeyPassphrase
            self.serverName = serverName
        }

        /// The files and names, never the passphrase.
        public var description: String {
            var parts: [String] = []
            if let caFile { parts.append("caFile: \(caFile)") }
            if let caFolder { parts.append("caFolder: \(caFolder)") }
            if caFile == nil && caFolder == nil { parts.append("ca: system") }
            if let certificateFile { parts.append("certificateFile: \(certificateFile)") }
            if let privateKeyFile { parts.append("privateKeyFile: \(privateKeyFile)") }
            if privateKeyPassphrase != nil { parts.append("privateKeyPassphrase: <redacted>") }
            if let serverName { parts.append("serverName: \(serverName)") }
            if insecureSkipVerification { parts.append("insecureSkipVerification: true") }
            return "TLS(\(parts.joined(separator: ", ")))"
        }

        /// Never shows the passphrase.
        public var debugDescription: String { description }

        /// Every setting, with the passphrase as `<redacted>` when there is one.
        public var customMirror: Mirror {
            Mirror(self, children: [
                "caFile": caFile as Any,
                "caFolder": caFolder as Any,
                "certificateFile": certificateFile as Any,
                "privateKeyFile": privateKeyFile as Any,
                "privateKeyPassphrase": (privateKeyPassphrase == nil ? nil : "<redacted>") as Any,
                "serverName": serverName as Any,
                "insecureSkipVerification": insecureSkipVerification,
            ], displayStyle: .struct)
        }
    }

    /// Whether this build speaks TLS: built with the package trait `TLS` (`swift build --traits
    /// TLS`) against hiredis >= 1.0 with hiredis_ssl. Without it, a configuration with ``tls``
    /// set (a `rediss://` URL) fails ``validate()`` with a message saying how to get TLS.
    public static var isTLSAvailable: Bool {
        #if TLS
        return true
        #else
        return false
        #endif
    }

    /// Why TLS is refused in a build without it, and how to get it.
    static let tlsUnavailableMessage = "this build has no TLS support (rediss://). Build with the package trait TLS "
        + "(`swift build --traits TLS`, or `traits: [\"TLS\"]` on the package dependency) against hiredis >= 1.0 with "
        + "hiredis_ssl: `apt-get install libhiredis-dev libssl-dev` on Ubuntu 24.04 or Debian 13 "
        + "(Debian 12's hiredis 0.14 has no TLS), `brew install hiredis` on macOS"

    /// Checks the TLS settings (called by ``validate()``).
    func validateTLS(_ tls: TLS) throws(RedisError) {
        func invalid(_ why: String) -> RedisError { RedisError(.invalidConfiguration, why) }
        guard Self.isTLSAvailable else { throw invalid(Self.tlsUnavailableMessage) }
        guard case .tcp = endpoint else { throw invalid("TLS needs a TCP endpoint, not a Unix socket") }
        for (name, value) in [("tls.caFile", tls.caFile), ("tls.caFolder", tls.caFolder), ("tls.certificateFile", tls.certificateFile),
                              ("tls.privateKeyFile", tls.privateKeyFile), ("tls.serverName", tls.serverName)] {
            guard let value else { continue }
            guard !value.isEmpty else { throw invalid("\(name) is empty (nil means unset)") }
            guard !value.utf8.contains(0) else { throw invalid("\(name) contains a NUL byte") }
        }
        if let passphrase = tls.privateKeyPassphrase {
            guard tls.privateKeyFile != nil else { throw invalid("tls.privateKeyPassphrase is set but tls.privateKeyFile is not") }
            guard !passphrase.utf8.contains(0) else { throw invalid("tls.privateKeyPassphrase contains a NUL byte") }
        }
        guard (tls.certificateFile == nil) == (tls.privateKeyFile == nil) else {
            throw invalid("tls.certificateFile and tls.privateKeyFile go together: set both for mutual TLS, or neither")
        }
    }
}
