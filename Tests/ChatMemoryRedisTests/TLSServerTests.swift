#if TLS
import Foundation
import ChatMemoryRedis
import Testing

/// The TLS servers and certificates made by Scripts/test-tls.sh. A missing one fails the test.
///
/// REDIS_TLS_TEST_DIR holds ca.pem (the CA of every certificate), other-ca.pem (an unrelated CA),
/// client.pem/client.key, client-encrypted.key with its passphrase in client-encrypted.pass.
/// ca-folder/ holds ca.pem hashed (`openssl rehash`).
/// REDIS_TLS_TEST_PORT: TLS only, no client certificate needed; REDIS_TLS_TEST_MTLS_PORT: TLS
/// only, client certificate required; REDIS_TLS_TEST_PLAIN_PORT: plain TCP. The server
/// certificate names localhost and 127.0.0.1. REDIS_TLS_TEST_SNI_PORT: an `openssl s_server`
/// (not Redis) showing the server certificate to clients sending SNI "localhost", and a
/// self-signed one to others.
enum TLSTestServer {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not set: run the TLS suite with Scripts/test-tls.sh, which starts TLS servers" }
    }

    static func value(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    static func file(_ name: String) throws -> String { try value("REDIS_TLS_TEST_DIR") + "/" + name }

    /// A verified TLS configuration for the port named by `portVariable`, trusting ca.pem.
    static func configuration(port portVariable: String = "REDIS_TLS_TEST_PORT", host: String = "127.0.0.1") throws -> RedisConfiguration {
        let port = try #require(Int(try value(portVariable)))
        var configuration = RedisConfiguration(host: host, port: port)
        configuration.tls = .init(caFile: try file("ca.pem"))
        configuration.commandTimeout = .seconds(10)
        configuration.pool.initialBackoff = .zero
        configuration.pool.maxBackoff = .zero
        return configuration
    }

    /// The configuration with a client certificate, for the server that requires one.
    static func mutualConfiguration() throws -> RedisConfiguration {
        var configuration = try configuration(port: "REDIS_TLS_TEST_MTLS_PORT")
        configuration.tls?.certificateFile = try file("client.pem")
        configuration.tls?.privateKeyFile = try file("client.key")
        return configuration
    }
}

/// Round trip of a random key: proves the connection carries commands both ways.
private func roundTrip(_ client: RedisClient) async throws {
    let key = TestServer.key()
    let value = "tls-\(UUID().uuidString)"
    _ = try await client.send("SET", key, value, "EX", 60)
    #expect(try await client.send("GET", key) == .bulkString(Array(value.utf8)))
    _ = try await client.send("DEL", key)
}

@Suite struct TLSServerTests {
    @Test func aVerifiedConnectionCarriesCommands() async throws {
        #expect(RedisConfiguration.isTLSAvailable)
        // 127.0.0.1 is checked as an IP address, localhost as a DNS name (and sent as SNI).
        for host in ["127.0.0.1", "localhost"] {
            try await withClient(configuration: try TLSTestServer.configuration(host: host)) { client in
                try await roundTrip(client)
            }
        }
        var named = try TLSTestServer.configuration()
        named.tls?.serverName = "localhost"
        try await withClient(configuration: named) { client in try await roundTrip(client) }
    }

    @Test func aRedissURLWithEnvironmentVariablesConnects() async throws {
        let port = try TLSTestServer.value("REDIS_TLS_TEST_PORT")
        let configuration = try RedisConfiguration.fromEnvironment([
            "REDIS_URL": "rediss://127.0.0.1:\(port)", "REDIS_TLS_CA_FILE": try TLSTestServer.file("ca.pem"),
            "REDIS_TLS_SERVER_NAME": "localhost",
        ])
        #expect(configuration.tls?.serverName == "localhost")
        try await withClient(configuration: configuration) { client in try await roundTrip(client) }
    }

    @Test func aCAFolderIsTrusted() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls = .init(caFolder: try TLSTestServer.file("ca-folder"))
        try await withClient(configuration: configuration) { client in try await roundTrip(client) }
    }

    @Test func theServerNameIsSentAsSNI() async throws {
        // Only a client sending SNI "localhost" gets the certificate the CA signed; the handshake
        // passes, then the s_server's reversed echo is no Redis reply.
        for (host, serverName) in [("localhost", nil), ("127.0.0.1", "localhost")] {
            var configuration = try TLSTestServer.configuration(port: "REDIS_TLS_TEST_SNI_PORT", host: host)
            configuration.tls?.serverName = serverName
            configuration.commandTimeout = .seconds(2)
            do {
                try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
                Issue.record("openssl s_server gave a Redis reply")
            } catch let error as RedisError {
                #expect(!error.message.contains("certificate"), "\(host) \(serverName ?? "-"): \(error)")
            }
        }
    }

    /// The control of the test above: without SNI "localhost", the self-signed certificate comes.
    @Test func withoutThatSNITheServerShowsAnotherCertificate() async throws {
        let configuration = try TLSTestServer.configuration(port: "REDIS_TLS_TEST_SNI_PORT", host: "127.0.0.1")
        let error = await expectRedisError(.io) {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
        }
        #expect(error?.message.contains("self-signed certificate") == true, "\(String(describing: error))")
    }

    @Test func aCertificateFromAnotherCAIsRefused() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls?.caFile = try TLSTestServer.file("other-ca.pem")
        let error = await expectRedisError(.io) {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
        }
        #expect(error?.message.contains("certificate of 127.0.0.1:") == true, "\(String(describing: error))")
        #expect(error?.message.contains("tls.caFile") == true, "\(String(describing: error))")
    }

    @Test func theSystemTrustStoreRefusesAPrivateCA() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls?.caFile = nil
        await expectRedisError(.io) {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
        }
    }

    @Test(arguments: ["redis.example.com", "127.0.0.2", "::1", "LOCALHOST.evil"])
    func aCertificateForAnotherNameIsRefused(name: String) async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls?.serverName = name
        let error = await expectRedisError(.io) {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
        }
        #expect(error?.message.contains("mismatch") == true, "\(String(describing: error))")
        #expect(error?.message.contains("'\(name)'") == true, "\(String(describing: error))")
    }

    @Test func skippingVerificationNeedsTheInsecureOption() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls = .init(serverName: "redis.example.com")
        configuration.tls?.insecureSkipVerification = true
        try await withClient(configuration: configuration) { client in try await roundTrip(client) }
    }

    @Test func mutualTLSWithTheClientCertificateWorks() async throws {
        try await withClient(configuration: try TLSTestServer.mutualConfiguration()) { client in try await roundTrip(client) }
    }

    @Test func mutualTLSWithAnEncryptedKeyAndItsPassphraseWorks() async throws {
        var configuration = try TLSTestServer.mutualConfiguration()
        configuration.tls?.privateKeyFile = try TLSTestServer.file("client-encrypted.key")
        configuration.tls?.privateKeyPassphrase = try String(contentsOfFile: try TLSTestServer.file("client-encrypted.pass"), encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        try await withClient(configuration: configuration) { client in try await roundTrip(client) }
    }

    @Test func aWrongOrMissingPassphraseIsAConfigurationErrorThatNeverShowsIt() async throws {
        for passphrase in ["wrong-\(UUID().uuidString)", nil] {
            var configuration = try TLSTestServer.mutualConfiguration()
            configuration.tls?.privateKeyFile = try TLSTestServer.file("client-encrypted.key")
            configuration.tls?.privateKeyPassphrase = passphrase
            let error = await expectRedisError(.invalidConfiguration) {
                try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
            }
            #expect(error?.message.contains("client-encrypted.key") == true, "\(String(describing: error))")
            if let passphrase { #expect(error?.message.contains(passphrase) == false) }
        }
    }

    @Test func mutualTLSWithoutAClientCertificateIsRefused() async throws {
        var configuration = try TLSTestServer.mutualConfiguration()
        configuration.tls?.certificateFile = nil
        configuration.tls?.privateKeyFile = nil
        do {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
            Issue.record("a server requiring a client certificate answered without one")
        } catch let error as RedisError {
            // TLS 1.3 finishes the client's handshake first: the server's refusal comes with the first read.
            #expect([.connectionClosed, .io].contains(error.code), "\(error)")
            // Either the server's alert, with OpenSSL's reason ("... certificate required"), or a reset.
        }
    }

    @Test func missingFilesAreConfigurationErrorsNamingThem() async throws {
        let missing = "/nonexistent-\(UUID().uuidString).pem"
        var badCA = try TLSTestServer.configuration()
        badCA.tls?.caFile = missing
        var badCertificate = try TLSTestServer.mutualConfiguration()
        badCertificate.tls?.certificateFile = missing
        var badKey = try TLSTestServer.mutualConfiguration()
        badKey.tls?.privateKeyFile = missing
        var mismatched = try TLSTestServer.mutualConfiguration()
        mismatched.tls?.privateKeyFile = try TLSTestServer.file("other-ca.key")
        for configuration in [badCA, badCertificate, badKey] {
            let error = await expectRedisError(.invalidConfiguration) {
                try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
            }
            #expect(error?.message.contains(missing) == true, "\(String(describing: error))")
        }
        let error = await expectRedisError(.invalidConfiguration) {
            try await withClient(configuration: mismatched) { client in _ = try await client.send("PING") }
        }
        #expect(error?.message.contains("not the certificate's key") == true, "\(String(describing: error))")
    }

    @Test func invalidTLSSettingsAreRefusedBeforeConnecting() throws {
        var configuration = try TLSTestServer.configuration()
        let cases: [(RedisConfiguration.TLS, String)] = [
            (.init(certificateFile: "/c.pem"), "go together"),
            (.init(privateKeyFile: "/c.key"), "go together"),
            (.init(caFile: ""), "tls.caFile is empty"),
            (.init(serverName: "a\u{0}b"), "tls.serverName contains a NUL"),
            (.init(privateKeyPassphrase: "x"), "tls.privateKeyFile is not"),
        ]
        for (tls, message) in cases {
            configuration.tls = tls
            #expect { try configuration.validate() } throws: { ($0 as? RedisError)?.message.contains(message) == true }
        }
        var unix = RedisConfiguration(endpoint: .unixSocket(path: "/tmp/r.sock"))
        unix.tls = .init()
        #expect { try unix.validate() } throws: { ($0 as? RedisError)?.message.contains("TCP") == true }
    }

    @Test func aPlaintextClientOnTheTLSPortFailsCleanly() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.tls = nil
        configuration.commandTimeout = .seconds(5)
        do {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
            Issue.record("a plaintext PING was answered on a TLS-only port")
        } catch let error as RedisError {
            #expect([.connectionClosed, .io, .timeout, .protocolError].contains(error.code), "\(error)")
        }
    }

    @Test func aTLSClientOnAPlaintextPortFailsCleanly() async throws {
        var configuration = try TLSTestServer.configuration(port: "REDIS_TLS_TEST_PLAIN_PORT")
        configuration.connectTimeout = .seconds(2)
        do {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
            Issue.record("a TLS handshake succeeded with a plaintext server")
        } catch let error as RedisError {
            #expect([.protocolError, .timeout, .connectionClosed, .io].contains(error.code), "\(error)")
        }
    }

    @Test func anIdleConnectionIsReusedAndAKilledOneReplaced() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.pool.size = 1
        try await withClient(configuration: configuration) { client in
            let first = try await client.send("CLIENT", "ID")
            // Session tickets the server sent after the handshake do not count as "closed".
            #expect(try await client.send("CLIENT", "ID") == first)
            guard case .integer(let id) = first else { Issue.record("CLIENT ID gave \(first)"); return }
            let killed = try await withClient(configuration: try TLSTestServer.configuration()) { admin in
                try await admin.send("CLIENT", "KILL", "ID", id)
            }
            #expect(killed == .integer(1))
            // The closed connection is noticed before use and replaced: the call succeeds.
            let second = try await client.send("CLIENT", "ID")
            #expect(second != first)
        }
    }

    @Test func manyConcurrentCallsShareThePool() async throws {
        var configuration = try TLSTestServer.configuration()
        configuration.pool.size = 3
        try await withClient(configuration: configuration) { client in
            let key = TestServer.key()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<200 { group.addTask { _ = try await client.send("INCR", key) } }
                try await group.waitForAll()
            }
            #expect(try await client.send("GET", key) == .bulkString(Array("200".utf8)))
            _ = try await client.send("DEL", key)
        }
    }
}
#endif
