// swift-tools-version:6.0
import PackageDescription

/// Settings every target shares: Swift 6 language mode with strict concurrency.
let defaultSwiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// SwiftPM names a path dependency after its folder, so the library's package identity is the
/// (lowercased) name of whatever folder the repository was cloned into.
let libraryPackage = Context.packageDirectory
    .split(separator: "/").dropLast(2).last.map { $0.lowercased() } ?? "main"

let package = Package(
    name: "ChatServer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "chat-server", targets: ["ChatServer"]),
    ],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
    ],
    targets: [
        // A Hummingbird 2 chat server whose conversations live in RedisChatMemory, so any worker
        // process can answer any turn.
        .executableTarget(
            name: "ChatServer",
            dependencies: [
                .product(name: "ChatMemory", package: libraryPackage),
                .product(name: "ChatMemoryRedis", package: libraryPackage),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
