// Measures the client doing what `redis-benchmark -t lpush,lrange_50 -d <size>` does, so
// Scripts/bench-redis.sh can print both side by side. Each test runs `-w` unmeasured requests
// (default 1,000, at least 50) before its `-n` measured ones. Prints one CSV line per test:
// test,concurrency,requests,rps,p50_ms,p99_ms,mean_ms,warmup
// (mean and warm-up come last so readers of the first six fields keep working). Percentiles are
// nearest-rank; the mean is over each request's own latency, rps is requests / wall time.
import Foundation
import ChatMemoryRedis

struct Options {
    var url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
    var concurrency = 1
    var requests = 20_000
    var warmup = 1_000
    var valueSize = 300
    var poolSize = 4
    /// The tests to run (`-t lpush,lrange_50`, as redis-benchmark's `-t`); nil: all.
    var tests: Set<String>?

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--url": url = value
            case "-c", "--concurrency": concurrency = Self.number(flag, value, from: 1)
            case "-n", "--requests": requests = Self.number(flag, value, from: 1)
            case "-w", "--warmup": warmup = max(50, Self.number(flag, value, from: 0))   // LRANGE 0 49 wants 50 elements
            case "-d", "--value-size": valueSize = Self.number(flag, value, from: 0)
            case "--pool": poolSize = Self.number(flag, value, from: 1)
            case "-t", "--tests": tests = Self.testNames(flag, value)
            default: Self.fail("unknown option \(flag)", status: 64)
            }
        }
    }

    /// `value` as a whole number of at least `minimum`; anything else ends the process.
    static func number(_ flag: String, _ value: String, from minimum: Int) -> Int {
        guard let number = Int(value), number >= minimum else {
            fail("\(flag) needs a whole number from \(minimum) (got \"\(value)\")", status: 64)
        }
        return number
    }

    /// The tests this tool knows, as `-t` names them (in upper case).
    static let knownTests = ["LPUSH", "LRANGE_50"]

    /// `value` as a set of known test names (any case, comma-separated); anything else ends the process.
    static func testNames(_ flag: String, _ value: String) -> Set<String> {
        let names = value.uppercased().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard let unknown = names.first(where: { !knownTests.contains($0) }) else { return Set(names) }
        fail("\(flag) names a test this tool does not run: \"\(unknown)\" (its tests: \(knownTests.joined(separator: ", ")))", status: 64)
    }

    /// Prints `message` and ends the process: status 64 for a bad option, 1 for a failed run.
    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("RedisBenchmark: \(message)\n".utf8))
        exit(status)
    }
}

/// Runs `requests` commands from `concurrency` tasks (spread as evenly as possible); returns
/// requests per second (over the wall time) and each request's latency, sorted.
func measure(_ client: RedisClient, concurrency: Int, requests: Int, command: RedisCommand) async throws -> (rps: Double, latencies: [Duration]) {
    let clock = ContinuousClock()
    let started = clock.now
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for index in 0..<concurrency {
            let share = requests / concurrency + (index < requests % concurrency ? 1 : 0)
            group.addTask {
                var samples: [Duration] = []
                samples.reserveCapacity(share)
                for _ in 0..<share {
                    let sent = clock.now
                    try await client.send(command)
                    samples.append(clock.now - sent)
                }
                return samples
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }
    let elapsed = clock.now - started
    return (Double(latencies.count) / seconds(elapsed), latencies.sorted())
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func milliseconds(_ value: Double) -> String {
    String(format: "%.4f", value * 1000)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
do {
    var configuration = try RedisConfiguration(url: options.url)
    configuration.pool.size = options.poolSize
    let client = RedisClient(configuration: configuration)
    let key = "bench:mylist"
    let value = [UInt8](repeating: UInt8(ascii: "x"), count: options.valueSize)
    let tests: [(String, RedisCommand)] = [
        ("LPUSH", RedisCommand("LPUSH", key, value)),
        ("LRANGE_50", RedisCommand("LRANGE", key, 0, 49)),
    ]
    // Each test's warm-up runs just before it; LPUSH's leaves the list at least 50 elements long
    // (without LPUSH, the list gets its 50 elements here).
    if options.tests?.contains("LPUSH") == false {
        try await client.send(RedisCommand("LPUSH", [key] + Array(repeating: value, count: 50)))
    }
    for (name, command) in tests where options.tests?.contains(name) ?? true {
        _ = try await measure(client, concurrency: options.concurrency, requests: options.warmup, command: command)
        let (rps, latencies) = try await measure(client, concurrency: options.concurrency, requests: options.requests, command: command)
        func percentile(_ share: Int) -> Double { seconds(latencies[max(0, (latencies.count * share + 99) / 100 - 1)]) }
        let mean = seconds(latencies.reduce(.zero, +)) / Double(latencies.count)
        print("\(name),\(options.concurrency),\(latencies.count),\(String(format: "%.0f", rps)),\(milliseconds(percentile(50))),\(milliseconds(percentile(99))),\(milliseconds(mean)),\(options.warmup)")
    }
    try await client.send("DEL", key)
    await client.shutdown()
} catch {
    Options.fail("\(error)", status: 1)
}
