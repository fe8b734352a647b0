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
    /// Prepares the standard streams; the CLI calls this first thing at startup.
    ///
    /// - A write to a closed pipe fails with EPIPE instead of killing the process (SIGPIPE is
    ///   ignored: the disposition is the program's to choose, not a library's).
    /// - A standard descriptor that was closed at startup (`chat-memory export s >&-`) is held
    ///   on /dev/null, so that no socket to Redis can take its number and receive the output.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        _ = outputClosedAtStart
    }

    /// Whether standard output was closed at startup; computed once, by ``prepare()``.
    private static let outputClosedAtStart: Bool = {
        var outputClosed = false
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            // open() returns the lowest free number: the one just found closed.
            _ = open("/dev/null", descriptor == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            if descriptor == STDOUT_FILENO { outputClosed = true }
        }
        return outputClosed
    }()

    /// Writes all of `bytes` to standard output. Throws ``StandardOutputClosed`` when the reader
    /// has gone and `CLIError.runtime` on any other failure (a full disk, a closed descriptor).
    static func writeOutput(_ bytes: some Sequence<UInt8>) throws {
        guard !outputClosedAtStart else { throw CLIError.runtime("cannot write to standard output: it is closed") }
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
