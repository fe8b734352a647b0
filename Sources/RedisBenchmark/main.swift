// Measures the client doing what `redis-benchmark -t lpush,lrange_50 -d <size>` does, so
// Scripts/bench-redis.sh can print both side by side. Prints one CSV line per test:
// test,concurrency,requests,rps,p50_ms,p99_ms
import Foundation
import ChatMemoryRedis

struct Options {
    var url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
    var concurrency = 1
    var requests = 20_000
    var valueSize = 300
    var poolSize = 4

    init(_ arguments: [String]) {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            let value = iterator.next() ?? ""
            switch flag {
            case "--url": url = value
            case "-c", "--concurrency": concurrency = Int(value) ?? concurrency
            case "-n", "--requests": requests = Int(value) ?? requests
            case "-d", "--value-size": valueSize = Int(value) ?? valueSize
            case "--pool": poolSize = Int(value) ?? poolSize
            default:
                FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
                exit(64)
            }
        }
    }
}

/// Runs `requests` commands from `concurrency` tasks; returns requests per second and latencies.
func measure(_ client: RedisClient, concurrency: Int, requests: Int, command: RedisCommand) async throws -> (rps: Double, latencies: [Duration]) {
    let clock = ContinuousClock()
    let started = clock.now
    let perTask = requests / concurrency
    let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var samples: [Duration] = []
                samples.reserveCapacity(perTask)
                for _ in 0..<perTask {
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
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(latencies.count) / seconds, latencies.sorted())
}

func milliseconds(_ duration: Duration) -> String {
    let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    return String(format: "%.3f", value)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
var configuration = try RedisConfiguration(url: options.url)
configuration.pool.size = options.poolSize
let client = RedisClient(configuration: configuration)
let key = "bench:mylist"
let value = [UInt8](repeating: UInt8(ascii: "x"), count: options.valueSize)
let tests: [(String, RedisCommand)] = [
    ("LPUSH", RedisCommand("LPUSH", key, value)),
    ("LRANGE_50", RedisCommand("LRANGE", key, 0, 49)),
]
// Warm up the connections and make sure the list has 50 elements.
_ = try await measure(client, concurrency: options.concurrency, requests: max(options.concurrency, 100), command: tests[0].1)
for (name, command) in tests {
    let (rps, latencies) = try await measure(client, concurrency: options.concurrency, requests: options.requests, command: command)
    let p50 = latencies[latencies.count / 2]
    let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
    print("\(name),\(options.concurrency),\(latencies.count),\(String(format: "%.0f", rps)),\(milliseconds(p50)),\(milliseconds(p99))")
}
try await client.send("DEL", key)
await client.shutdown()
