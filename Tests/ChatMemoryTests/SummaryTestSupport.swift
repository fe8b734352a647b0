import Foundation
@testable import ChatMemory

/// Joins the previous summary and the folded ids with `|`, and records every call.
final class JoiningSummarizer: ChatSummarizer, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [(previous: String?, ids: [String])] = []

    var calls: [(previous: String?, ids: [String])] { lock.withLock { received } }

    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        let ids = messages.map(\.id)
        lock.withLock { received.append((previous, ids)) }
        return ((previous.map { [$0] } ?? []) + ids).joined(separator: "|")
    }
}

/// A summary of bounded size: how many messages it has seen.
struct CountingSummarizer: ChatSummarizer {
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        let before = previous.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
        return "messages folded: \(before + messages.count)"
    }
}

/// Runs `body` while summarising, then returns a fixed text: another worker acting mid-compaction.
struct InterferingSummarizer: ChatSummarizer {
    let body: @Sendable () async throws -> Void
    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        try await body()
        return "interfered"
    }
}

/// Tells when it was called, then waits until `release()` (or forever): a compactor that dies
/// between summarising and committing, or one that comes back after its lease expired.
final class StalledSummarizer: ChatSummarizer, @unchecked Sendable {
    private let lock = NSLock()
    private var entered: CheckedContinuation<Void, Never>?
    private var didEnter = false
    private var gate: CheckedContinuation<Void, Never>?
    private var released = false

    func summarize(previous: String?, messages: [ChatMessage]) async throws -> String {
        let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            didEnter = true
            defer { entered = nil }
            return entered
        }
        waiter?.resume()
        await withCheckedContinuation { continuation in
            let open = lock.withLock { () -> Bool in
                if released { return true }
                gate = continuation
                return false
            }
            if open { continuation.resume() }
        }
        return "late summary"
    }

    /// Returns once `summarize` was entered.
    func waitUntilEntered() async {
        await withCheckedContinuation { continuation in
            let already = lock.withLock { () -> Bool in
                if didEnter { return true }
                entered = continuation
                return false
            }
            if already { continuation.resume() }
        }
    }

    func release() {
        let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            released = true
            defer { gate = nil }
            return gate
        }
        waiter?.resume()
    }
}

/// A lock-protected value shared between test tasks.
final class SummaryTestBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&stored) } }
}

extension ChatSession {
    /// The session's messages without its summary, oldest first.
    func messagesWithoutSummary() async throws -> [ChatMessage] {
        let summaryID = try await summary()?.id
        return try await all().filter { $0.id != summaryID }
    }
}
