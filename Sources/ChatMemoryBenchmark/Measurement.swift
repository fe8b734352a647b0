/// What every benchmark row prints: mean, p50 and p99 latency and operations per second.
///
/// Percentiles are nearest-rank (the smallest latency at least that share of the operations
/// took no longer than), the same rule as Scripts/lib/llamaindex-bench.py.
struct LatencySummary {
    let count: Int
    let mean: Double
    let p50: Double
    let p99: Double
    let operationsPerSecond: Double

    /// From each operation's latency and the wall time of the whole run (latencies in milliseconds).
    init(latencies: [Duration], wall: Duration) {
        let sorted = latencies.sorted()
        count = sorted.count
        func percentile(_ share: Int) -> Double {
            sorted.isEmpty ? 0 : milliseconds(sorted[max(0, (sorted.count * share + 99) / 100 - 1)])
        }
        mean = sorted.isEmpty ? 0 : milliseconds(sorted.reduce(.zero, +)) / Double(sorted.count)
        p50 = percentile(50)
        p99 = percentile(99)
        let seconds = milliseconds(wall) / 1000
        operationsPerSecond = seconds > 0 ? Double(sorted.count) / seconds : 0
    }

    /// `mean_ms,p50_ms,p99_ms,ops_per_s`
    var csv: String {
        String(format: "%.4f,%.4f,%.4f,%.0f", mean, p50, p99, operationsPerSecond)
    }
}

/// Runs `count` operations spread as evenly as possible over `tasks` concurrent tasks; returns
/// each operation's latency and the wall time of the whole run. `operation` gets the task's index.
func measureOperations(_ count: Int, tasks: Int,
                       _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> (latencies: [Duration], wall: Duration) {
    let tasks = max(1, tasks)
    let started = clock.now
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for index in 0..<tasks {
            let share = count / tasks + (index < count % tasks ? 1 : 0)
            group.addTask {
                var samples: [Duration] = []
                samples.reserveCapacity(share)
                for _ in 0..<share {
                    let sent = clock.now
                    try await operation(index)
                    samples.append(clock.now - sent)
                }
                return samples
            }
        }
        var all: [Duration] = []
        for try await samples in group { all += samples }
        return all
    }
    return (latencies, clock.now - started)
}
