import Foundation

/// Process measurements for the benchmarks: time, resident memory and its peak (Linux /proc).
enum Measure {
    /// The resident set size in bytes (VmRSS), or 0 when /proc is unavailable.
    static func residentBytes() -> Int { statusField("VmRSS:") }

    /// The peak resident set size in bytes since the last `resetPeak()` (VmHWM).
    static func peakResidentBytes() -> Int { statusField("VmHWM:") }

    /// Starts a new peak: writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS.
    static func resetPeak() {
        if let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") {
            handle.write(Data("5".utf8))
            try? handle.close()
        }
    }

    /// The time `body` takes, in seconds.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = start.duration(to: .now).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }

    /// The wall-clock and processor time `body` takes, in seconds. Processor time is the fairer
    /// figure on a shared machine, where a busy neighbour stretches wall-clock time.
    static func times(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let cpuStart = cpuSeconds()
        let wall = try seconds(body)
        return (wall, cpuSeconds() - cpuStart)
    }

    /// The processor time this process has used, in seconds.
    static func cpuSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// The fastest of `rounds` runs of `body`, in seconds.
    static func fastest(rounds: Int, _ body: () -> Void) -> Double {
        (0..<rounds).map { _ in seconds(body) }.min() ?? 0
    }

    private static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kilobytes = Int(line.split(separator: " ")[1])
        else { return 0 }
        return kilobytes * 1024
    }
}

/// Writes a usage line to standard error and exits with status 2.
func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: TokenizerBenchmark mixed TEXT-FILE MESSAGES-FILE
               TokenizerBenchmark piece ENCODING FILE
               TokenizerBenchmark joined ENCODING MESSAGES-FILE

        """.utf8))
    exit(2)
}
