import Foundation

/// Runs CPU-bound `work` on a thread of its own and waits for it without holding a cooperative
/// thread. Tests share Swift's cooperative pool (as many threads as cores, two here): a test that
/// computes for seconds on one of them would stall every other test's tasks meanwhile.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
