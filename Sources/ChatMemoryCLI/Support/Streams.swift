#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output's reader has gone (EPIPE, as in `chat-memory show s | head -1`): the program
/// ends quietly with status 0, as Unix tools do.
struct StandardOutputClosed: Error {}

/// Standard output and standard error written with write(2), so every failure is an error value
/// (never a trap) and nothing is buffered behind the program's back.
enum Streams {
    /// Makes a write to a closed pipe fail with EPIPE instead of killing the process. The CLI calls
    /// this once at startup: the disposition is the program's to choose, not a library's.
    static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Writes all of `bytes` to standard output. Throws ``StandardOutputClosed`` when the reader
    /// has gone and `CLIError.runtime` on any other failure (a full disk, a closed descriptor).
    static func writeOutput(_ bytes: some Sequence<UInt8>) throws {
        let failure = ContiguousArray(bytes).withUnsafeBytes { writeAll(STDOUT_FILENO, $0) }
        switch failure {
        case nil: return
        case EPIPE?: throw StandardOutputClosed()
        case let code?: throw CLIError.runtime("cannot write to standard output: \(String(cString: strerror(code)))")
        }
    }

    /// Writes text to standard error; a failure is ignored, as there is nowhere left to report it.
    static func writeError(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { writeAll(STDERR_FILENO, $0) }
    }

    /// Writes the whole buffer, retrying after interruptions and short writes; the errno of a
    /// failure, or nil.
    private static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Int32? {
        guard var next = buffer.baseAddress else { return nil }
        var left = buffer.count
        while left > 0 {
            let written = write(descriptor, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            next += written
            left -= written
        }
        return nil
    }
}
