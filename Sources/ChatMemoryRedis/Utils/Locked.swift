import Foundation

/// A value guarded by a lock. It uses a pthread-based `NSLock` rather than `Synchronization.Mutex`
/// because the thread sanitizer understands pthread locks (on Linux, `Mutex` uses raw futexes,
/// which it reports as races).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
