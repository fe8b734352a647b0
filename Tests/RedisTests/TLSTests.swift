import Foundation
import Redis
import Testing

/// TLS settings that need no server, in every build.
@Suite struct TLSConfigurationTests {
    @Test func tlsSettingsNeverShowThePassphrase() {
        let passphrase = "pass-\(UUID().uuidString)"
        var configuration = RedisConfiguration(host: "redis.example.com", port: 6380)
        configuration.tls = .init(caFile: "/ca.pem", certificateFile: "/c.pem", privateKeyFile: "/c.key",
                                  privateKeyPassphrase: passphrase, serverName: "redis.example.com")
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [configuration.description, configuration.debugDescription, String(reflecting: configuration.tls),
                     "\(configuration.tls as Any)", dumped] {
            #expect(!text.contains(passphrase))
        }
        #expect(dumped.contains("/ca.pem") && dumped.contains("<redacted>"))
        #expect(configuration.description.hasPrefix("rediss "))
        configuration.tls?.insecureSkipVerification = true
        #expect(configuration.description.contains("tls unverified"))
    }

    @Test func tlsVariablesWithoutARedissURLAreRefused() {
        do {
            _ = try RedisConfiguration.fromEnvironment(["REDIS_URL": "redis://127.0.0.1", "REDIS_TLS_CA_FILE": "/ca.pem",
                                                        "REDIS_TLS_KEY_PASSPHRASE": "hunter2-secret"])
            Issue.record("TLS variables with a redis:// URL should be refused")
        } catch let error as RedisError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("REDIS_TLS_CA_FILE") && error.message.contains("rediss://"))
            #expect(!error.message.contains("hunter2-secret"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

#if !TLS
/// A build without the TLS trait refuses TLS and says how to get it.
@Suite struct TLSUnavailableTests {
    @Test func redissURLsAreRefusedWithHowToGetTLS() throws {
        #expect(!RedisConfiguration.isTLSAvailable)
        for url in ["rediss://127.0.0.1:6380", "rediss://user:hunter2-secret@redis.example.com/1"] {
            do {
                let parsed = try RedisConfiguration(url: url)
                Issue.record("\(url) should be refused without TLS; got \(parsed)")
            } catch let error as RedisError {
                #expect(error.code == .invalidConfiguration)
                for hint in ["--traits TLS", "hiredis >= 1.0", "hiredis_ssl", "libhiredis-dev", "Ubuntu 24.04", "Debian 13", "brew install hiredis"] {
                    #expect(error.message.contains(hint), "missing '\(hint)' in: \(error.message)")
                }
                #expect(!error.message.contains("hunter2-secret"))
            }
        }
        #expect(throws: RedisError.self) { try RedisConfiguration.fromEnvironment(["REDIS_URL": "rediss://127.0.0.1"]) }
    }

    @Test func aTLSConfigurationFailsEveryCall() async throws {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: 6380)
        configuration.tls = .init()
        #expect(throws: RedisError.self) { try configuration.validate() }
        let error = await expectRedisError(.invalidConfiguration) {
            try await withClient(configuration: configuration) { client in _ = try await client.send("PING") }
        }
        #expect(error?.message.contains("--traits TLS") == true)
    }
}
#endif
