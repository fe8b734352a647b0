extension RedisClient {
    /// Every key that matches `pattern` (a `SCAN MATCH` glob; every key when `nil`), of `type`
    /// when given (`SCAN … TYPE`), in batches as `SCAN` returns them: on a cluster, each primary's
    /// keys in turn; with Sentinel, the primary's. Nothing is read until the sequence is iterated,
    /// and only one batch is held at a time, so a million keys never land in one array.
    ///
    /// `SCAN`'s guarantees hold per node: a key present for the whole scan is returned at least
    /// once (a key may come twice, and one added or moved meanwhile may be missed).
    ///
    /// ```swift
    /// for try await batch in client.scan(matching: "chat:*", type: "list") {
    ///     for key in batch { print(String(decoding: key, as: UTF8.self)) }
    /// }
    /// ```
    public func scan(matching pattern: (any RedisArgument)? = nil, type: String? = nil, count: Int = 1000) -> RedisKeyScan {
        RedisKeyScan(client: self, pattern: pattern?.redisBytes, type: type, count: max(1, count))
    }
}

/// The batches of keys of ``RedisClient/scan(matching:type:count:)``.
public struct RedisKeyScan: AsyncSequence, Sendable {
    public typealias Element = [[UInt8]]

    let client: RedisClient
    let pattern: [UInt8]?
    let type: String?
    let count: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(scan: self)
    }

    /// Walks the primaries one after another, `SCAN` cursor by cursor.
    public struct Iterator: AsyncIteratorProtocol {
        private let scan: RedisKeyScan
        private var pools: [ConnectionPool]?
        private var index = 0
        private var cursor = "0"

        init(scan: RedisKeyScan) {
            self.scan = scan
        }

        /// The next non-empty batch; `nil` once every primary was scanned to its end.
        public mutating func next() async throws -> [[UInt8]]? {
            if pools == nil { pools = try await scan.client.primaryPools() }
            guard let pools else { return nil }
            while index < pools.count {
                var arguments: [any RedisArgument] = [cursor]
                if let pattern = scan.pattern { arguments += ["MATCH", pattern] }
                arguments += ["COUNT", scan.count]
                if let type = scan.type { arguments += ["TYPE", type] }
                let reply = try await scan.client.send(RedisCommand("SCAN", arguments), on: pools[index])
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
                    throw RedisError(.unexpectedReply, "SCAN returned \(reply)")
                }
                cursor = next
                if next == "0" { index += 1 }
                let batch = keys.compactMap(\.bytes)
                if !batch.isEmpty { return batch }
            }
            return nil
        }
    }
}
