import ChatMemory
import ChatMemoryRedis
import Foundation
import Testing

/// Writers that append numbered messages (`<label>-<n>`, n = 1, 2, ...) to a session each, one
/// after another, until stopped, and record which appends were acknowledged and when.
/// The in-process kind runs tasks on a `RedisChatMemory`; ``CLIAppenders`` runs `chat-memory`
/// child processes.
final class InProcessAppenders: @unchecked Sendable {
    struct Ack {
        let id: String
        let at: ContinuousClock.Instant
    }

    /// (writer label, session id), one task each.
    let writers: [(label: String, session: String)]
    private let memory: RedisChatMemory
    private let pause: Duration
    private let lock = NSLock()
    private var acks: [String: [Ack]] = [:]
    private var failures: [String: Int] = [:]
    private var stopped = false
    private var tasks: [Task<Void, Never>] = []

    /// `pause` between two appends of a writer keeps the load modest.
    init(memory: RedisChatMemory, sessions: [String], label: String, pause: Duration = .milliseconds(15)) {
        self.memory = memory
        self.writers = sessions.enumerated().map { ("\(label)\($0.offset)", $0.element) }
        self.pause = pause
    }

    func start() {
        for writer in writers {
            let task = Task {
                var number = 0
                while !self.isStopped {
                    number += 1
                    let id = "\(writer.label)-\(number)"
                    do {
                        _ = try await self.memory.session(SessionID(writer.session)).append(ChatMessage(id: id, role: .user, content: id))
                        self.lock.withLock { self.acks[writer.label, default: []].append(Ack(id: id, at: .now)) }
                    } catch {
                        self.lock.withLock { self.failures[Self.kind(of: error), default: 0] += 1 }
                    }
                    try? await Task.sleep(for: self.pause)
                }
            }
            lock.withLock { tasks.append(task) }
        }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops every writer and waits until each has finished its last append.
    func stop() async {
        let running = lock.withLock {
            stopped = true
            return tasks
        }
        for task in running { await task.value }
    }

    /// Each writer's acknowledged ids, in order.
    var acknowledged: [String: [String]] {
        lock.withLock { acks.mapValues { $0.map(\.id) } }
    }

    /// The failed appends by kind of error.
    var failureCounts: [String: Int] { lock.withLock { failures } }

    /// The fewest appends any writer had acknowledged after `instant` (all when nil).
    func fewestAcks(after instant: ContinuousClock.Instant? = nil) -> Int {
        lock.withLock {
            writers.map { writer in (acks[writer.label] ?? []).filter { ack in instant.map { ack.at > $0 } ?? true }.count }.min() ?? 0
        }
    }

    /// When the first append after `instant` was acknowledged, by any writer.
    func firstAck(after instant: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        lock.withLock { acks.values.compactMap { $0.first { $0.at > instant }?.at }.min() }
    }

    /// Waits until every writer had `count` appends acknowledged after `instant`.
    func waitForAcks(_ count: Int, after instant: ContinuousClock.Instant? = nil, _ what: String) async throws {
        try await waitUntil("\(count) acknowledged appends per writer \(what) (failures so far: \(failureCounts))") {
            fewestAcks(after: instant) >= count
        }
    }

    private static func kind(of error: any Error) -> String {
        switch error {
        case let error as ChatMemoryError: "ChatMemoryError \(error.code)"
        case let error as RedisError: "RedisError \(error.code)"
        default: "\(type(of: error))"
        }
    }
}

/// `chat-memory append` run in a loop by one bash child process per writer (`$CHAT_MEMORY_BIN`),
/// each writer appending `<label>-<n>` to its session until a stop file appears (or `limit`
/// appends), and writing each acknowledged id (exit status 0) to a file of its own.
final class CLIAppenders: @unchecked Sendable {
    let writers: [(label: String, session: String)]
    private let folder: String
    private var children: [CLIChildProcess] = []

    /// Starts the writers against the cluster or server at `url`, with sessions keyed by `prefix`.
    init(url: String, prefix: String, writers: [(label: String, session: String)], limit: Int = 300) throws {
        guard let binary = ProcessInfo.processInfo.environment["CHAT_MEMORY_BIN"], !binary.isEmpty else {
            throw CLIHarnessMissing("CHAT_MEMORY_BIN is not set: build the chat-memory product and point it at the binary (Scripts/test.sh does)")
        }
        self.writers = writers
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("rcm-writers-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        for name in ["REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_PASSWORD_FILE", "REDIS_SENTINEL_PASSWORD"] { environment[name] = nil }
        environment["REDIS_URL"] = url
        environment["CLI"] = binary
        // Arguments: session, label, folder, limit, prefix.
        let loop = #"""
            n=0
            while [ ! -e "$3/stop" ] && [ "$n" -lt "$4" ]; do
              n=$((n + 1))
              if "$CLI" append "$1" --id "$2-$n" --role user --content "$2-$n" --prefix "$5" --encoding approx >/dev/null 2>>"$3/$2.err"; then
                printf '%s\n' "$2-$n" >>"$3/$2.acked"
              else
                printf '%s\n' "$2-$n" >>"$3/$2.failed"
              fi
            done
            """#
        for writer in writers {
            children.append(try CLIChildProcess(
                ["/bin/bash", "-c", loop, "bash", writer.session, writer.label, folder, String(limit), prefix],
                environment: environment, stdin: nil, stdout: "/dev/null", stderr: folder + "/\(writer.label).bash.err"))
        }
    }

    private func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Each writer's acknowledged ids, in order.
    var acknowledged: [String: [String]] {
        Dictionary(uniqueKeysWithValues: writers.map { ($0.label, lines("\($0.label).acked")) })
    }

    /// How many appends failed (non-zero exit) in all, and the last error output of one.
    var failures: (count: Int, sample: String) {
        let count = writers.map { lines("\($0.label).failed").count }.reduce(0, +)
        let sample = writers.lazy.map { self.lines("\($0.label).err").suffix(3).joined(separator: "\n") }.first { !$0.isEmpty } ?? ""
        return (count, sample)
    }

    /// The fewest acknowledged appends of any writer.
    var fewestAcks: Int { acknowledged.values.map(\.count).min() ?? 0 }

    /// Waits until every writer had `count` more appends acknowledged than in `before`.
    func waitForProgress(_ count: Int, since before: [String: [String]], _ what: String) async throws {
        try await waitUntil("\(count) more acknowledged CLI appends per writer \(what)") {
            let now = acknowledged
            return writers.allSatisfy { (now[$0.label]?.count ?? 0) >= (before[$0.label]?.count ?? 0) + count }
        }
    }

    /// Tells the writers to stop and waits for them; removes the folder.
    func stop() async {
        _ = FileManager.default.createFile(atPath: folder + "/stop", contents: nil)
        for child in children { _ = await child.exitStatus() }
    }

    func removeFiles() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// What a session holds compared with what its writers were told: every acknowledged append
/// should be there exactly once, each writer's messages in the order it wrote them.
struct AppendAudit: CustomStringConvertible {
    var acknowledged = 0
    /// Acknowledged, and not in the session.
    var lost: [String] = []
    /// In the session more than once.
    var duplicated: [String] = []
    /// Writers whose messages are not in the order written.
    var outOfOrder: [String] = []
    /// Stored although the writer saw the append fail (it may have run before its connection broke).
    var storedUnacknowledged = 0

    /// `stored`: the ids the writers' sessions hold, each session oldest first; `acknowledged`:
    /// each writer's acknowledged ids in order. Ids are `<writer>-<n>`.
    init(stored: [[String]], acknowledged: [String: [String]]) {
        var seen: [String: Int] = [:]
        for session in stored {
            var last: [String: Int] = [:]
            for id in session {
                seen[id, default: 0] += 1
                guard let dash = id.lastIndex(of: "-"), let number = Int(id[id.index(after: dash)...]) else { continue }
                let writer = String(id[..<dash])
                if let previous = last[writer], previous >= number, !outOfOrder.contains(writer) { outOfOrder.append(writer) }
                last[writer] = number
            }
        }
        duplicated = seen.filter { $0.value > 1 }.map(\.key).sorted()
        let acked = Set(acknowledged.values.joined())
        self.acknowledged = acked.count
        lost = acked.filter { seen[$0] == nil }.sorted()
        storedUnacknowledged = seen.keys.filter { !acked.contains($0) }.count
    }

    /// Reads the sessions through `memory`.
    static func of(_ memory: RedisChatMemory, sessions: [String], acknowledged: [String: [String]]) async throws -> AppendAudit {
        var stored: [[String]] = []
        for session in Set(sessions).sorted() {
            stored.append(try await memory.session(SessionID(session)).all().map(\.id))
        }
        return AppendAudit(stored: stored, acknowledged: acknowledged)
    }

    var description: String {
        "\(acknowledged) acknowledged, \(lost.count) lost\(lost.isEmpty ? "" : " \(lost.prefix(10))"), "
            + "\(duplicated.count) duplicated\(duplicated.isEmpty ? "" : " \(duplicated.prefix(10))"), "
            + "out of order: \(outOfOrder), stored without acknowledgement: \(storedUnacknowledged)"
    }
}

/// The time from `start` to `end` in milliseconds, for printing.
func milliseconds(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) -> Int {
    let duration = end - start
    return Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
}

/// One fault under load: appenders on `sessions` until each had 5 appends acknowledged, then
/// `fault` (e.g. a SIGKILL), then `recover` while they keep going (e.g. restarting the killed
/// node), until each had 5 more acknowledged after the fault; then the sessions are audited.
struct FaultRun {
    let audit: AppendAudit
    /// When the fault started.
    let started: ContinuousClock.Instant
    /// From the start of the fault to the first append acknowledged after it ended, in ms.
    let recovery: Int?
    let failures: [String: Int]

    static func run(
        _ memory: RedisChatMemory, sessions: [String], label: String,
        fault: () async throws -> Void, recover: () async throws -> Void = {}
    ) async throws -> FaultRun {
        let appenders = InProcessAppenders(memory: memory, sessions: sessions, label: label)
        appenders.start()
        do {
            try await appenders.waitForAcks(5, "before the fault")
            let start = ContinuousClock.now
            try await fault()
            let faulted = ContinuousClock.now
            try await recover()
            try await appenders.waitForAcks(5, after: faulted, "after the fault")
            await appenders.stop()
            let audit = try await AppendAudit.of(memory, sessions: sessions, acknowledged: appenders.acknowledged)
            return FaultRun(audit: audit, started: start, recovery: appenders.firstAck(after: faulted).map { milliseconds(start, $0) }, failures: appenders.failureCounts)
        } catch {
            await appenders.stop()
            throw error
        }
    }

    /// From the start of the fault to `instant`, in ms ("?" when unknown).
    func since(_ instant: ContinuousClock.Instant?) -> String {
        instant.map { "\(milliseconds(started, $0))" } ?? "?"
    }

    var summary: String {
        "recovery \(recovery.map { "\($0) ms" } ?? "none"); \(audit); failed appends \(failures)"
    }
}
