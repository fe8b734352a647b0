import Foundation

extension Tokenizer {
    /// The encodings shipped with the module, with their rank files' SHA-256 and special tokens.
    public enum BundledEncoding: String, Sendable, CaseIterable {
        /// GPT-3.5 and GPT-4's encoding.
        case cl100kBase = "cl100k_base"
        /// GPT-4o's encoding.
        case o200kBase = "o200k_base"

        var pattern: Pattern {
            switch self {
            case .cl100kBase: .cl100k
            case .o200kBase: .o200k
            }
        }

        var sha256: String {
            switch self {
            case .cl100kBase: "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
            case .o200kBase: "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
            }
        }

        var specialTokens: [String: Int] {
            switch self {
            case .cl100kBase:
                [
                    "<|endoftext|>": 100_257, "<|fim_prefix|>": 100_258, "<|fim_middle|>": 100_259,
                    "<|fim_suffix|>": 100_260, "<|endofprompt|>": 100_276,
                ]
            case .o200kBase:
                ["<|endoftext|>": 199_999, "<|endofprompt|>": 200_018]
            }
        }
    }

    /// The cl100k_base tokenizer, loaded and verified on first use and shared afterwards.
    public static func cl100kBase() throws(TokenizerError) -> Tokenizer {
        try cl100k.get()
    }

    /// The o200k_base tokenizer, loaded and verified on first use and shared afterwards.
    public static func o200kBase() throws(TokenizerError) -> Tokenizer {
        try o200k.get()
    }

    /// A bundled tokenizer, loaded and verified on first use and shared afterwards.
    ///
    /// The rank files ship in the resource bundle `RedisChatMemory_ChatTokenizer.resources`,
    /// looked for next to the executable, or in the folder named by the environment variable
    /// `CHAT_TOKENIZER_RESOURCES` when it is set. A missing file throws `missingResource` (saying
    /// where it looked), a damaged one `hashMismatch`; the process never stops.
    public static func bundled(_ encoding: BundledEncoding) throws(TokenizerError) -> Tokenizer {
        switch encoding {
        case .cl100kBase: try cl100k.get()
        case .o200kBase: try o200k.get()
        }
    }

    // Static lets are initialised lazily, exactly once, by the runtime.
    private static let cl100k = Result { () throws(TokenizerError) in try load(.cl100kBase) }
    private static let o200k = Result { () throws(TokenizerError) in try load(.o200kBase) }

    /// Loads a bundled encoding from the first rank file found under `folders` and checks its hash.
    static func load(_ encoding: BundledEncoding, searching folders: [URL] = BundledRankFiles.searchedFolders()) throws(TokenizerError) -> Tokenizer {
        let url = try BundledRankFiles.locate("\(encoding.rawValue).tiktoken", in: folders)
        return try Tokenizer(
            name: encoding.rawValue, rankFile: url, pattern: encoding.pattern,
            specialTokens: encoding.specialTokens, expectedSHA256: encoding.sha256)
    }
}
