/// Which primary serves each of the 16384 hash slots, as `CLUSTER SLOTS` reported it.
struct SlotMap: Sendable {
    /// The primary of each slot; `nil` where no node serves it.
    private(set) var owners: [RedisConfiguration.Endpoint?] = Array(repeating: nil, count: HashSlot.count)
    /// Every primary, each once, in the order of the slots they serve (whatever order the reply
    /// listed them in), so that a scan cursor's place in this list names the same shard after a
    /// refresh or a failover.
    private(set) var primaries: [RedisConfiguration.Endpoint] = []
    /// Every node named (primaries and replicas), each once.
    private(set) var nodes: [RedisConfiguration.Endpoint] = []

    init() {}

    /// Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id…], [replica…]…]…]`. A node
    /// shown with an empty host (or `?`) is on the host of `answeredBy`, the node that answered.
    init(clusterSlots reply: RedisValue, answeredBy: RedisConfiguration.Endpoint) throws(RedisError) {
        guard let ranges = reply.array else { throw Self.malformed("not an array") }
        var fallbackHost = "127.0.0.1"
        if case .tcp(let host, _) = answeredBy { fallbackHost = host }
        // Sets, so that a reply naming thousands of nodes is read in linear time.
        var seen = Set<RedisConfiguration.Endpoint>()
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                  0 <= start, start <= end, end < HashSlot.count else { throw Self.malformed("a slot range is not [start, end, node…]") }
            var endpoints: [RedisConfiguration.Endpoint] = []
            for node in fields[2...] {
                guard let parts = node.array, parts.count >= 2, let port = parts[1].int, (1...65535).contains(port) else {
                    throw Self.malformed("a node is not [host, port, …]")
                }
                let host = parts[0].string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? fallbackHost
                endpoints.append(.tcp(host: host, port: port))
            }
            for slot in start...end { owners[slot] = endpoints[0] }
            for endpoint in endpoints where seen.insert(endpoint).inserted { nodes.append(endpoint) }
        }
        var primariesSeen = Set<RedisConfiguration.Endpoint>()
        for case let owner? in owners where primariesSeen.insert(owner).inserted { primaries.append(owner) }
    }

    /// Records that `slot` moved to `endpoint` (what a `MOVED` redirect says).
    mutating func assign(_ slot: Int, to endpoint: RedisConfiguration.Endpoint) {
        guard (0..<HashSlot.count).contains(slot) else { return }
        owners[slot] = endpoint
        if !primaries.contains(endpoint) { primaries.append(endpoint) }
        if !nodes.contains(endpoint) { nodes.append(endpoint) }
    }

    /// Whether every slot has a primary.
    var coversEverySlot: Bool { !owners.contains(nil) }

    private static func malformed(_ why: String) -> RedisError {
        RedisError(.unexpectedReply, "CLUSTER SLOTS reply: \(why)")
    }
}

/// What a redirect or retryable error reply asks the client to do.
enum ClusterReply {
    /// `MOVED <slot> <host:port>`: the slot lives there now.
    case moved(slot: Int, to: RedisConfiguration.Endpoint)
    /// `ASK <slot> <host:port>`: this key is being migrated; ask there, once, after `ASKING`.
    case ask(slot: Int, to: RedisConfiguration.Endpoint)
    /// `TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN` or `READONLY`: wait and try again.
    case retry(RedisError)

    /// The first redirect or retryable error among `replies`; `nil` when there is none.
    /// `node` is the node that answered (an empty host in a redirect means its host).
    static func first(in replies: [Result<RedisValue, RedisError>], from node: RedisConfiguration.Endpoint) -> ClusterReply? {
        for reply in replies {
            guard case .failure(let error) = reply else { continue }
            if let found = ClusterReply(error, from: node) { return found }
        }
        return nil
    }

    init?(_ error: RedisError, from node: RedisConfiguration.Endpoint) {
        switch error.code {
        case .server(.moved), .server(.ask):
            let words = error.message.split(separator: " ")
            guard words.count >= 3, let slot = Int(words[1]), (0..<HashSlot.count).contains(slot),
                  let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...]),
                  (1...65535).contains(port) else { return nil }
            var host = String(words[2][..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            if host.isEmpty, case .tcp(let own, _) = node { host = own }
            guard !host.isEmpty else { return nil }
            self = error.code == .server(.moved) ? .moved(slot: slot, to: .tcp(host: host, port: port)) : .ask(slot: slot, to: .tcp(host: host, port: port))
        case .server(.tryAgain), .server(.clusterDown), .server(.loading), .server(.masterDown), .server(.readOnly):
            self = .retry(error)
        default:
            return nil
        }
    }
}
