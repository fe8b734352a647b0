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
    name: "VaporChat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vapor-chat", targets: ["VaporChat"]),
    ],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/vapor/vapor", from: "4.100.0"),
    ],
    targets: [
        // A Vapor 4 chat server whose conversations live in RedisChatMemory, so any worker
        // process can answer any turn; the Redis client opens and closes with the application.
        .executableTarget(
            name: "VaporChat",
            dependencies: [
                .product(name: "ChatMemory", package: libraryPackage),
                .product(name: "ChatMemoryRedis", package: libraryPackage),
                .product(name: "Vapor", package: "vapor"),
            ],
            swiftSettings: defaultSwiftSettings
        ),
    ]
)
