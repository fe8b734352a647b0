/// Where a client's commands go: one server, the nodes of a Redis Cluster, or the primary that
/// Sentinel names.
///
/// Work arrives in units: commands that must run together on one connection, in order, in one
/// write (a single command, `MULTI … EXEC`, `SCRIPT LOAD` + `EVALSHA`, a script + `WAIT`).
protocol CommandRouter: Sendable {
    /// Runs every unit on the node that serves it and returns each unit's replies, in the
    /// caller's order. A unit's commands run on one connection in one write.
    func run(_ units: [[RedisCommand]], deadline: ContinuousClock.Instant?) async throws -> [[Result<RedisValue, RedisError>]]

    /// Runs `body` with a new connection of its own to the node that serves `routingKey` (any
    /// primary when `nil`).
    func withDedicatedConnection<R: Sendable>(routingKey: [UInt8]?, _ body: (RedisConnection) async throws -> R) async throws -> R

    /// The pools of every primary, each once (one for a single server).
    func primaryPools(deadline: ContinuousClock.Instant?) async throws -> [ConnectionPool]

    /// Closes every connection.
    func shutdown() async
}

/// Helpers for units of commands.
enum RoutedUnits {
    /// Cuts the flat list of replies back into one list per unit.
    static func split<T>(_ replies: [T], like units: [[RedisCommand]]) -> [[T]] {
        var result: [[T]] = []
        result.reserveCapacity(units.count)
        var start = 0
        for unit in units {
            result.append(Array(replies[start..<(start + unit.count)]))
            start += unit.count
        }
        return result
    }

    /// The value of a task that others may await too, or `nil` when `deadline` comes first or the
    /// caller is cancelled (the task goes on for the others).
    static func value<T: Sendable>(of task: Task<T, Never>, before deadline: ContinuousClock.Instant?) async -> T? {
        guard let deadline else { return await task.value }
        let waiter = Locked<CheckedContinuation<T?, Never>?>(nil)
        let finish = { @Sendable (value: T?) in
            waiter.withLock { continuation in
                continuation?.resume(returning: value)
                continuation = nil
            }
        }
        var helpers: [Task<Void, Never>] = []
        defer { helpers.forEach { $0.cancel() } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter.withLock { $0 = continuation }
                helpers = [
                    Task { finish(await task.value) },
                    Task {
                        do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                        finish(nil)
                    },
                ]
                if Task.isCancelled { finish(nil) }
            }
        } onCancel: {
            finish(nil)
        }
    }
}
