import Foundation
import Testing

@testable import ChatTokenizer

/// Finding the bundled rank files: every failure is a typed error, never a stopped process.
@Suite struct BundledRankFilesTests {
    /// The real resource bundle, next to the test executable.
    static var realBundle: URL {
        get throws {
            let executable = try #require(Bundle.main.executableURL)
            return executable.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent(BundledRankFiles.bundleName)
        }
    }

    /// A fresh temporary folder, removed after `body`.
    static func withFolder(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rank-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder)
    }

    static func realFile(_ encoding: Tokenizer.BundledEncoding) throws -> URL {
        try realBundle.appendingPathComponent("Resources/\(encoding.rawValue).tiktoken")
    }

    @Test func theTestExecutableFindsTheBundleNextToIt() throws {
        let folders = BundledRankFiles.searchedFolders(environment: [:])
        let found = try BundledRankFiles.locate("cl100k_base.tiktoken", in: folders)
        #expect(found.standardizedFileURL.path == (try Self.realFile(.cl100kBase)).standardizedFileURL.path)
    }

    @Test func theEnvironmentVariableIsTheOnlyPlaceSearchedWhenSet() {
        let named = BundledRankFiles.searchedFolders(environment: [BundledRankFiles.environmentVariable: "/srv/app/tokenizer"])
        #expect(named.map(\.path) == ["/srv/app/tokenizer"])
        let empty = BundledRankFiles.searchedFolders(environment: [BundledRankFiles.environmentVariable: ""])
        #expect(empty == BundledRankFiles.searchedFolders(environment: [:]))
    }

    /// The variable may name the bundle, the folder holding it, its Resources folder, or a
    /// folder with the files alone.
    @Test(arguments: ["", "\(BundledRankFiles.bundleName)/Resources/", "Resources/"])
    func everyLayoutLoads(_ layout: String) throws {
        try Self.withFolder { folder in
            let target = folder.appendingPathComponent(layout + "o200k_base.tiktoken")
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.realFile(.o200kBase), to: target)
            let tokenizer = try Tokenizer.load(.o200kBase, searching: [folder])
            #expect(tokenizer.encode("Hello, world!") == (try Tokenizer.o200kBase()).encode("Hello, world!"))
        }
    }

    @Test func aMissingFileSaysWhereItLookedAndHowToFixIt() throws {
        try Self.withFolder { folder in
            #expect(throws: TokenizerError.missingResource(file: "cl100k_base.tiktoken", searched: [folder.path])) {
                try Tokenizer.load(.cl100kBase, searching: [folder])
            }
            do {
                _ = try Tokenizer.load(.cl100kBase, searching: [folder])
            } catch {
                let message = String(describing: error)
                #expect(message.contains(folder.path))
                #expect(message.contains(BundledRankFiles.bundleName))
                #expect(message.contains(BundledRankFiles.environmentVariable))
            }
        }
    }

    /// A damaged file (cut short, garbage, another encoding's file, empty) fails its hash check;
    /// a folder in place of the file cannot be read.
    @Test func aDamagedFileIsATypedError() throws {
        let real = try Data(contentsOf: Self.realFile(.cl100kBase))
        let other = try Data(contentsOf: Self.realFile(.o200kBase))
        for contents in [real.prefix(real.count / 2), Data("not a rank file\n".utf8), other, Data()] {
            try Self.withFolder { folder in
                try contents.write(to: folder.appendingPathComponent("cl100k_base.tiktoken"))
                #expect {
                    try Tokenizer.load(.cl100kBase, searching: [folder])
                } throws: { error in
                    guard case .hashMismatch(let expected, _) = error as? TokenizerError else { return false }
                    return expected == Tokenizer.BundledEncoding.cl100kBase.sha256
                }
            }
        }
        try Self.withFolder { folder in
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("cl100k_base.tiktoken"), withIntermediateDirectories: true)
            #expect {
                try Tokenizer.load(.cl100kBase, searching: [folder])
            } throws: { error in
                guard case .unreadableRankFile(let path, _) = error as? TokenizerError else { return false }
                return path.hasSuffix("cl100k_base.tiktoken")
            }
        }
    }
}
