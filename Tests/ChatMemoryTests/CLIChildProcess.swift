import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started as a shell starts one: no signal blocked, every signal handled by
/// default, standard streams from files. (Foundation's `Process` passes on the spawning thread's
/// blocked signals, so a child could neither die of SIGPIPE nor stop on SIGTERM.)
final class CLIChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?
    private var waiter: CheckedContinuation<Int32, Never>?

    /// Starts `arguments[0]` (looked up in PATH) with `environment`; standard input from `stdin`
    /// (or /dev/null), output and error to the given files (created or truncated).
    init(_ arguments: [String], environment: [String: String], stdin: String?, stdout: String, stderr: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var nothing = sigset_t()
        sigemptyset(&nothing)
        var everything = sigset_t()
        sigfillset(&everything)
        sigdelset(&everything, SIGKILL)
        sigdelset(&everything, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &nothing)
        posix_spawnattr_setsigdefault(&attributes, &everything)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var spawned = pid_t()
        let result = posix_spawnp(&spawned, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw CLIHarnessMissing("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        let pid = spawned
        self.pid = pid
        // waitpid blocks: a thread of its own, never one of Swift's cooperative pool.
        Thread.detachNewThread { [self] in
            var raw: Int32 = 0
            var reaped: pid_t
            repeat { reaped = waitpid(pid, &raw, 0) } while reaped == -1 && errno == EINTR
            // The exit code, or 128 + the signal that ended the process (as a shell reports it).
            terminated(reaped == -1 ? -1 : (raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + raw & 0x7F))
        }
    }

    private func terminated(_ code: Int32) {
        lock.lock()
        status = code
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: code)
    }

    /// Whether the process has ended.
    var hasExited: Bool {
        lock.lock()
        defer { lock.unlock() }
        return status != nil
    }

    /// Sends `signal` to the process (nothing once it has been reaped).
    func send(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { kill(pid, signal) }
    }

    /// Waits for the end of the process without blocking a thread; its status as a shell reports it.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let status {
                lock.unlock()
                continuation.resume(returning: status)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
