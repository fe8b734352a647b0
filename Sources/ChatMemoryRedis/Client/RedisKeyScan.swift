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
        RedisKeyScan(client: self, pattern: pattern?.redisBytes, type: type, count: count)
    }

    /// One step of a scan (see ``scan(matching:type:count:)``): the keys of one `SCAN` call from
    /// `cursor` (`nil` starts), and where the next step starts (`nil` once every primary was
    /// scanned to its end). A step may return no keys while the scan goes on.
    public func scan(
        from cursor: RedisScanCursor?, matching pattern: (any RedisArgument)? = nil, type: String? = nil, count: Int = 1000
    ) async throws -> (keys: [[UInt8]], next: RedisScanCursor?) {
        let position = cursor ?? RedisScanCursor(node: 0, cursor: "0")
        let pools = try await primaryPools()
        guard position.node < pools.count else {
            throw RedisError(.invalidCommand, "scan cursor \(position) names primary \(position.node), but there are \(pools.count) (nothing was sent)")
        }
        var arguments: [any RedisArgument] = [position.cursor]
        if let pattern { arguments += ["MATCH", pattern.redisBytes] }
        arguments += ["COUNT", max(1, count)]
        if let type { arguments += ["TYPE", type] }
        let reply: RedisValue
        do {
            reply = try await send(RedisCommand("SCAN", arguments), on: pools[position.node])
        } catch let error as RedisError where RetryPolicy.isConnectionFailure(error) {
            // The primary may have failed over: learn the new map, so the next step from this
            // cursor reaches the replica that took its place.
            clusterRouter?.requestRefresh()
            throw error
        }
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, RedisScanCursor.isCursor(next), let keys = parts[1].array else {
            throw RedisError(.unexpectedReply, "SCAN returned \(reply)")
        }
        let following: RedisScanCursor? = next != "0" ? RedisScanCursor(node: position.node, cursor: next)
            : position.node + 1 < pools.count ? RedisScanCursor(node: position.node + 1, cursor: "0") : nil
        return (keys.compactMap(\.bytes), following)
    }
}

/// Where a scan goes on: which primary (by its place in the client's list of primaries) and that
/// node's `SCAN` cursor. Its text form, `<node>:<cursor>`, may be stored and read back.
public struct RedisScanCursor: Sendable, Hashable, LosslessStringConvertible {
    let node: Int
    let cursor: String

    init(node: Int, cursor: String) {
        self.node = node
        self.cursor = cursor
    }

    /// Reads the text form; `nil` when it is not one.
    public init?(_ description: String) {
        let parts = description.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let node = Int(parts[0]), (0...Pool.maximumSize).contains(node), Self.isCursor(parts[1]) else { return nil }
        self.init(node: node, cursor: String(parts[1]))
    }

    public var description: String { "\(node):\(cursor)" }

    /// A `SCAN` cursor: decimal digits, at most 20.
    static func isCursor(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.count <= 20 && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    private typealias Pool = RedisConfiguration.Pool
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
        private var cursor: RedisScanCursor?
        private var finished = false

        init(scan: RedisKeyScan) {
            self.scan = scan
        }

        /// The next non-empty batch; `nil` once every primary was scanned to its end.
        public mutating func next() async throws -> [[UInt8]]? {
            while !finished {
                let (keys, next) = try await scan.client.scan(from: cursor, matching: scan.pattern, type: scan.type, count: scan.count)
                cursor = next
                finished = next == nil
                if !keys.isEmpty { return keys }
            }
            return nil
        }
    }
}
