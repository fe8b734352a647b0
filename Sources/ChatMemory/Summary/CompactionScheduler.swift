import Foundation

/// Runs automatic compaction checks off the appenders' path: at most one per session at a time
/// in this process, with at most one more queued behind it, and at most `limit` at once in all,
/// so checks never crowd out the requests that share the client's connections.
final class CompactionScheduler: @unchecked Sendable {
    private struct SessionKey: Hashable {
        let storage: ObjectIdentifier
        let key: [UInt8]
    }

    private let lock = NSLock()
    /// Sessions with a check running; the value says whether another was asked for meanwhile.
    private var running: [SessionKey: Bool] = [:]
    /// Sessions waiting for a free place, oldest first, with the handle to check them with.
    private var waiting: [Waiting] = []
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    private struct Waiting {
        let key: SessionKey
        let session: ChatSession
        let settings: AutomaticCompaction
    }

    /// How many times a check tries again after a conflict (another worker compacted first).
    static let conflictRetries = 3

    /// Schedules a check of `session` (over the storage `storage` tells apart) against `settings`.
    func schedule(_ session: ChatSession, storage: ObjectIdentifier, _ settings: AutomaticCompaction) {
        let sessionKey = SessionKey(storage: storage, key: session.key)
        let start = lock.withLock { () -> Bool in
            if running[sessionKey] != nil {
                running[sessionKey] = true
                return false
            }
            if waiting.contains(where: { $0.key == sessionKey }) { return false }
            guard running.count < max(1, settings.maxConcurrentChecks) else {
                waiting.append(Waiting(key: sessionKey, session: session, settings: settings))
                return false
            }
            running[sessionKey] = false
            return true
        }
        if start { run(session, sessionKey, settings) }
    }

    private func run(_ session: ChatSession, _ sessionKey: SessionKey, _ settings: AutomaticCompaction) {
        Task.detached {
            repeat {
                await Self.check(session, settings)
            } while self.again(sessionKey)
        }
    }

    /// Whether another check of the session was asked for while one ran; when not, the session
    /// is done and its place goes to the next one waiting.
    private func again(_ sessionKey: SessionKey) -> Bool {
        let (again, next, waiters) = lock.withLock { () -> (Bool, Waiting?, [CheckedContinuation<Void, Never>]) in
            if running[sessionKey] == true {
                running[sessionKey] = false
                return (true, nil, [])
            }
            running[sessionKey] = nil
            if !waiting.isEmpty {
                let next = waiting.removeFirst()
                running[next.key] = false
                return (false, next, [])
            }
            guard running.isEmpty else { return (false, nil, []) }
            defer { idleWaiters = [] }
            return (false, nil, idleWaiters)
        }
        if let next { run(next.session, next.key, next.settings) }
        for waiter in waiters { waiter.resume() }
        return again
    }

    /// Returns once no check is running or queued (for tests and orderly shutdowns).
    func idle() async {
        await withCheckedContinuation { continuation in
            let idle = lock.withLock { () -> Bool in
                if running.isEmpty && waiting.isEmpty { return true }
                idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private static func check(_ session: ChatSession, _ settings: AutomaticCompaction) async {
        let logger = session.callLogger(nil)
        do {
            for _ in 0...conflictRetries {
                guard try await session.storedTokens(logger: logger) > settings.thresholdTokens else { return }
                let result = try await session.compact(targetTokens: settings.targetTokens, summarizer: settings.summarizer, logger: logger)
                guard result.outcome == .conflict else { return }
            }
        } catch {
            logger.debug("automatic compaction failed; the next append tries again", metadata: ["error": "\(error)"])
        }
    }
}

extension ChatSession {
    /// Schedules an automatic compaction check when the configuration asks for them and the
    /// storage can compact (a ``ChatStorage`` of your own cannot).
    func scheduleCompactionCheck() {
        guard let automatic = configuration.compaction.automatic, let storage = storage as? any CompactionStorage else { return }
        automatic.scheduler.schedule(self, storage: storage.identity, automatic)
    }
}
