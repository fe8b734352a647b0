// swift-tools-version:6.1
import PackageDescription

/// Settings every target shares: Swift 6 language mode with strict concurrency.
let defaultSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "RedisChatMemory",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ChatMemoryRedis", targets: ["ChatMemoryRedis"]),
        .library(name: "ChatTokenizer", targets: ["ChatTokenizer"]),
        .library(name: "ChatMemory", targets: ["ChatMemory"]),
        .executable(name: "chat-memory", targets: ["ChatMemoryCLI"]),
    ],
    traits: [
        // TLS (`rediss://`) through hiredis's own hiredis_ssl (hiredis >= 1.0 built with OpenSSL):
        // `swift build --traits TLS`. Off by default, so hiredis 0.14 (Debian 12) still builds.
        .trait(name: "TLS", description: "TLS connections (rediss://) through hiredis_ssl; needs hiredis >= 1.0 with hiredis_ssl"),
        // Observability, on by default; `--disable-default-traits` builds the client over swift-log alone.
        .trait(name: "ServiceLifecycleSupport", description: "RedisClient conforms to swift-service-lifecycle's Service"),
        .trait(name: "MetricsSupport", description: "swift-metrics counters and timers for commands, errors, pool waits and reconnects"),
        .trait(name: "DistributedTracingSupport", description: "swift-distributed-tracing spans for commands, appends and window reads"),
        .default(enabledTraits: ["ServiceLifecycleSupport", "MetricsSupport", "DistributedTracingSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (DocC catalogs in Sources/<module>/<module>.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        // The C library hiredis, found by pkg-config, with a shim over its version differences.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"]), .brew(["hiredis"])]
        ),
        // hiredis's TLS layer (hiredis_ssl, over OpenSSL), used only with the TLS trait.
        .systemLibrary(
            name: "CHiredisTLS",
            pkgConfig: "hiredis_ssl",
            providers: [.apt(["libhiredis-dev", "libssl-dev"]), .brew(["hiredis", "openssl@3"])]
        ),
        // An async, pooled, pipelining Redis client over hiredis.
        .target(
            name: "ChatMemoryRedis",
            dependencies: [
                "CHiredis",
                .target(name: "CHiredisTLS", condition: .when(traits: ["TLS"])),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["ServiceLifecycleSupport"])),
                .product(name: "CoreMetrics", package: "swift-metrics", condition: .when(traits: ["MetricsSupport"])),
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: .when(traits: ["DistributedTracingSupport"])),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        // A tiktoken-compatible byte-pair-encoding tokenizer.
        .target(
            name: "ChatTokenizer",
            resources: [.copy("Resources")],
            swiftSettings: defaultSwiftSettings
        ),
        // Token-limited chat memory shared through Redis.
        .target(
            name: "ChatMemory",
            dependencies: [
                "ChatMemoryRedis", "ChatTokenizer", .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing", condition: .when(traits: ["DistributedTracingSupport"])),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "ChatMemoryCLI",
            dependencies: [
                "ChatMemory", "ChatMemoryRedis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "RedisBenchmark",
            dependencies: ["ChatMemoryRedis"],
            swiftSettings: defaultSwiftSettings
        ),
        // Whether a connection keeps sending while every cooperative thread is busy (Scripts/bench-liveness.sh).
        .executableTarget(
            name: "LivenessProbe",
            dependencies: ["ChatMemoryRedis"],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "ChatMemoryBenchmark",
            dependencies: ["ChatMemory", "ChatMemoryRedis"],
            swiftSettings: defaultSwiftSettings
        ),
        .executableTarget(
            name: "TokenizerBenchmark",
            dependencies: ["ChatTokenizer"],
            swiftSettings: defaultSwiftSettings
        ),
        // What the test targets share (a seeded random generator).
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: defaultSwiftSettings
        ),
        // Tests that need no server: configuration, URLs, hash slots, command keys, the
        // connection's and the pool's state machines, the retry policy.
        .testTarget(
            name: "ChatMemoryRedisUnitTests",
            dependencies: ["ChatMemoryRedis", "TestSupport"],
            swiftSettings: defaultSwiftSettings
        ),
        // Integration tests: against the redis-server, cluster and Sentinel group Scripts/test.sh starts.
        .testTarget(
            name: "ChatMemoryRedisTests",
            dependencies: [
                "ChatMemoryRedis", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["ServiceLifecycleSupport"])),
                .product(name: "MetricsTestKit", package: "swift-metrics", condition: .when(traits: ["MetricsSupport"])),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing", condition: .when(traits: ["DistributedTracingSupport"])),
            ],
            swiftSettings: defaultSwiftSettings
        ),
        .testTarget(
            name: "ChatTokenizerTests",
            dependencies: ["ChatTokenizer", "TestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: defaultSwiftSettings
        ),
        // Tests that need no server: messages, the entry format, windows, LlamaIndex parity,
        // the extractive summariser, a storage of one's own.
        .testTarget(
            name: "ChatMemoryUnitTests",
            dependencies: ["ChatMemory", "ChatTokenizer", "TestSupport", .product(name: "Logging", package: "swift-log")],
            resources: [.copy("Fixtures")],
            swiftSettings: defaultSwiftSettings
        ),
        // Integration tests: the stores, the CLI, the topologies, against real servers.
        .testTarget(
            name: "ChatMemoryTests",
            dependencies: [
                "ChatMemory", "ChatMemoryRedis", "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing", condition: .when(traits: ["DistributedTracingSupport"])),
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
