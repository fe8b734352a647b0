/// The Unicode properties the pre-tokenization patterns ask about, as bits of one byte.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    /// `\p{L}`: Lu, Ll, Lt, Lm, Lo.
    static let letter = ScalarClass(rawValue: 1 << 0)
    /// `\p{N}`: Nd, Nl, No.
    static let number = ScalarClass(rawValue: 1 << 1)
    /// `\s`: the White_Space property.
    static let whitespace = ScalarClass(rawValue: 1 << 2)
    /// `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`, o200k's "upper" class.
    static let upper = ScalarClass(rawValue: 1 << 3)
    /// `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`, o200k's "lower" class.
    static let lower = ScalarClass(rawValue: 1 << 4)
    /// `\r` or `\n`.
    static let newline = ScalarClass(rawValue: 1 << 5)

    /// `[^\s\p{L}\p{N}]`: punctuation, symbols, marks, controls that are not white space.
    static let notPunctuation: ScalarClass = [.letter, .number, .whitespace]

    /// The class of one scalar, from the standard library's Unicode tables.
    init(of value: UInt32) {
        guard let scalar = Unicode.Scalar(value) else {
            self = []
            return
        }
        var result: ScalarClass = scalar.properties.isWhitespace ? .whitespace : []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter: result.formUnion([.letter, .upper])
        case .lowercaseLetter: result.formUnion([.letter, .lower])
        case .modifierLetter, .otherLetter: result.formUnion([.letter, .upper, .lower])
        case .nonspacingMark, .spacingMark, .enclosingMark: result.formUnion([.upper, .lower])
        case .decimalNumber, .letterNumber, .otherNumber: result.insert(.number)
        default: break
        }
        if value == 0x0A || value == 0x0D { result.insert(.newline) }
        self = result
    }

    init(rawValue: UInt8) { self.rawValue = rawValue }
}

/// The class of every scalar below U+20000 (the BMP and the emoji plane), computed once per
/// process. Scalars above it are classified on the fly.
final class ScalarClassTable: @unchecked Sendable {
    /// Scalars below this value are looked up in the table.
    static let limit = 0x20000
    /// The process-wide table, built on first use.
    static let shared = ScalarClassTable()

    /// Owned and immutable after `init`; never freed because `shared` lives for the whole process.
    let classes: UnsafeMutablePointer<UInt8>

    private init() {
        classes = .allocate(capacity: Self.limit)
        for value in 0..<Self.limit { classes[value] = ScalarClass(of: UInt32(value)).rawValue }
    }
}
