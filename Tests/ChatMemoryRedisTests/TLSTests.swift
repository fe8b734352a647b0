import Foundation
import ChatMemoryRedis
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

#if TLS
/// A build with the TLS trait reads rediss:// URLs and the REDIS_TLS_* variables.
@Suite struct TLSAvailableConfigurationTests {
    @Test func redissURLsVerifyByDefault() throws {
        #expect(RedisConfiguration.isTLSAvailable)
        let configuration = try RedisConfiguration(url: "rediss://chat:pw@redis.example.com/2")
        #expect(configuration.endpoint == .tcp(host: "redis.example.com", port: 6379))
        #expect(configuration.database == 2 && configuration.credentials?.username == "chat")
        #expect(configuration.tls == RedisConfiguration.TLS())
        #expect(configuration.tls?.insecureSkipVerification == false)
        #expect(try RedisConfiguration(url: "redis://redis.example.com").tls == nil)
        #expect(try RedisConfiguration(url: "REDISS://[::1]:6380").endpoint == .tcp(host: "::1", port: 6380))
    }

    @Test func everyTLSVariableSetsItsSetting() throws {
        let passphrase = "pass-\(UUID().uuidString)"
        let configuration = try RedisConfiguration.fromEnvironment([
            "REDIS_URL": "rediss://redis.example.com:6380", "REDIS_TLS_CA_FILE": "/ca.pem", "REDIS_TLS_CA_DIR": "/cas",
            "REDIS_TLS_CERT_FILE": "/c.pem", "REDIS_TLS_KEY_FILE": "/c.key", "REDIS_TLS_KEY_PASSPHRASE": passphrase,
            "REDIS_TLS_SERVER_NAME": "cache.internal", "REDIS_TLS_INSECURE_SKIP_VERIFY": "1",
        ])
        var expected = RedisConfiguration.TLS(caFile: "/ca.pem", caFolder: "/cas", certificateFile: "/c.pem", privateKeyFile: "/c.key",
                                              privateKeyPassphrase: passphrase, serverName: "cache.internal")
        expected.insecureSkipVerification = false  // never from the environment
        #expect(configuration.tls == expected)
        #expect(!configuration.description.contains(passphrase))
        // Half a client identity is refused, naming the settings.
        #expect { try RedisConfiguration.fromEnvironment(["REDIS_URL": "rediss://h", "REDIS_TLS_CERT_FILE": "/c.pem"]) } throws: {
            ($0 as? RedisError)?.message.contains("tls.certificateFile and tls.privateKeyFile") == true
        }
    }
}
#endif
