/// The sessions of a ``RedisChatMemory``, read from its storage one batch at a time as you
/// iterate (see ``RedisChatMemory/sessions()``). Keys whose id part is not a valid ``SessionID``
/// (empty, or longer than ``SessionID/maxLength``) are skipped.
public struct SessionIDs: AsyncSequence, Sendable {
    public typealias Element = SessionID
    public typealias Failure = any Error

    let storage: any ChatStorage
    let prefix: [UInt8]

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(storage: storage, prefix: prefix)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let storage: any ChatStorage
        let prefix: [UInt8]
        private var batch: [[UInt8]] = []
        private var cursor: String?
        private var finished = false

        init(storage: any ChatStorage, prefix: [UInt8]) {
            self.storage = storage
            self.prefix = prefix
        }

        public mutating func next() async throws -> SessionID? {
            while true {
                while let key = batch.popLast() {
                    if key.starts(with: prefix), let id = try? SessionID(bytes: Array(key.dropFirst(prefix.count))) { return id }
                }
                guard !finished else { return nil }
                try Task.checkCancellation()
                let (keys, next) = try await storage.keys(withPrefix: prefix, cursor: cursor)
                batch = keys.reversed()
                cursor = next
                finished = next == nil
            }
        }
    }
}
