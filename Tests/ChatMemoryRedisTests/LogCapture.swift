import Logging
import Synchronization

/// Keeps every log line in memory, at every level, with all its metadata (the logger's own, the
/// line's, and any provider's), to check what reaches the logs.
final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    /// Every line so far, as "level message [metadata] source error".
    var lines: [String] { storage.withLock { $0 } }

    /// A trace-level logger writing here.
    func logger(label: String = "capture") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func record(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            all.merge(metadataProvider?.get() ?? [:]) { $1 }
            all.merge(event.metadata ?? [:]) { $1 }
            let error = event.error.map { " error: \(String(reflecting: $0))" } ?? ""
            capture.record("\(event.level) \(event.message) \(all) \(event.source)\(error)")
        }
    }
}
