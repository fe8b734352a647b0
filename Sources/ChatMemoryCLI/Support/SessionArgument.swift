import ArgumentParser
import ChatMemory

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `<session>` argument: text, or with `--hex` the id's bytes in hex.
struct SessionArgument: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "The session id: UTF-8 text of 1 to 512 bytes, used byte for byte (with --hex: its bytes in hex).",
        valueName: "session"))
    var session: String

    @Flag(name: .long, help: ArgumentHelp(
        "Read <session> as the id's bytes in hex (61ff62 is the bytes 61 ff 62), as `sessions` shows them: "
            + "for ids that are not UTF-8 or hold NUL."))
    var hex = false

    func validate() throws {
        do { _ = try id() } catch { throw ValidationError(error.message) }
    }

    /// The session id; an empty, too long or badly written id is a usage error.
    func id() throws(CLIError) -> SessionID {
        try SessionID.parse(session, hex: hex)
    }
}

extension SessionID {
    /// The id given on the command line: its text, or with `hex` its bytes in hex.
    static func parse(_ argument: String, hex: Bool) throws(CLIError) -> SessionID {
        do {
            return hex ? try SessionID(bytes: try Self.bytes(hex: argument)) : try SessionID(argument)
        } catch let error as CLIError {
            throw error
        } catch let error as ChatMemoryError {
            throw .usage(CLIError.describe(error))
        } catch {
            throw .usage("invalid session id: \(error)")
        }
    }

    /// The id's bytes as lowercase hex, the form `--hex` reads.
    var hex: String { Hex.encode(bytes) }

    /// Whether the readable form (control characters and backslashes escaped) can be typed back
    /// as the session argument: UTF-8, nothing escaped, no leading '-' or surrounding whitespace.
    var isTypableText: Bool {
        guard let text = string, printable(text) == text, !text.hasPrefix("-") else { return false }
        return text.first?.isWhitespace != true && text.last?.isWhitespace != true
    }

    private static func bytes(hex text: String) throws(CLIError) -> [UInt8] {
        guard text.utf8.count % 2 == 0 else {
            throw .usage("a hex id needs two hex digits per byte (got \(text.utf8.count) digits in \(printable(text)))")
        }
        guard let bytes = Hex.decode(text) else {
            throw .usage("a hex id holds only the hex digits 0-9 and a-f (got \(printable(text)))")
        }
        return bytes
    }
}

/// Arguments arrive in Swift as text, with invalid UTF-8 silently replaced by U+FFFD: a session
/// id given as raw bytes would name a different session. So an argument that is not valid UTF-8
/// is refused, with the `--hex` form of its bytes to use instead.
enum RawArguments {
    static func requireUTF8() throws(CLIError) {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index], String(validatingCString: pointer) == nil else { continue }
            let bytes = Array(UnsafeBufferPointer(start: pointer, count: strlen(pointer))).map { UInt8(bitPattern: $0) }
            let hex = Hex.encode(bytes)
            throw .usage("argument \(index) is not valid UTF-8 (its bytes in hex: \(hex)); give a session id that is not UTF-8 as --hex \(hex); other arguments must be UTF-8 text")
        }
    }
}
