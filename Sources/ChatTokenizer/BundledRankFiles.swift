import Foundation

/// Finds the rank files of the bundled encodings without SwiftPM's `Bundle.module`, which kills
/// the process when its resource bundle is missing. A missing or damaged file is a
/// `TokenizerError` instead.
///
/// With `CHAT_TOKENIZER_RESOURCES` set (and not empty), only that folder is searched: it may be
/// the resource bundle `RedisChatMemory_ChatTokenizer.resources` itself, the folder holding it,
/// or any folder with the `.tiktoken` files. Otherwise the bundle is looked for next to the
/// executable (symbolic links resolved), in the main bundle and beside any loaded bundle (which
/// covers test bundles and macOS apps).
enum BundledRankFiles {
    /// The resource bundle SwiftPM builds for this module, next to the products in `.build/<configuration>`.
    static let bundleName = "RedisChatMemory_ChatTokenizer.resources"
    /// The environment variable that names the folder to search instead.
    static let environmentVariable = "CHAT_TOKENIZER_RESOURCES"

    /// The path of `file`: the first of its `candidates(for:in:)` in `folders` that exists.
    static func locate(_ file: String, in folders: [URL]) throws(TokenizerError) -> URL {
        let paths = folders.flatMap { candidates(for: file, in: $0) }
        guard let found = paths.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw .missingResource(file: file, searched: folders.map(\.path))
        }
        return found
    }

    /// Where `file` may sit under a searched folder: in the bundle (Linux, or macOS's
    /// `.bundle` layout), in a `Resources` folder, or directly.
    static func candidates(for file: String, in folder: URL) -> [URL] {
        let macOSBundle = bundleName.replacingOccurrences(of: ".resources", with: ".bundle")
        return [
            folder.appendingPathComponent(bundleName).appendingPathComponent("Resources").appendingPathComponent(file),
            folder.appendingPathComponent(macOSBundle).appendingPathComponent("Contents/Resources/Resources").appendingPathComponent(file),
            folder.appendingPathComponent(macOSBundle).appendingPathComponent("Resources").appendingPathComponent(file),
            folder.appendingPathComponent("Resources").appendingPathComponent(file),
            folder.appendingPathComponent(file),
        ]
    }

    /// The folders to search, in order, for this process's environment.
    static func searchedFolders(environment: [String: String] = ProcessInfo.processInfo.environment) -> [URL] {
        if let folder = environment[environmentVariable], !folder.isEmpty {
            return [URL(fileURLWithPath: folder)]
        }
        var folders: [URL] = []
        if let executable = Bundle.main.executableURL {
            folders.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        folders.append(Bundle.main.bundleURL)
        if let resources = Bundle.main.resourceURL { folders.append(resources) }
        folders += Bundle.allBundles.filter { $0 != Bundle.main }.map { $0.bundleURL.deletingLastPathComponent() }
        var seen = Set<String>()
        return folders.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }
}
