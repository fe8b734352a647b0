import CHiredis

/// Builds ``RedisValue``s while hiredis's reader parses a reply (see `chr_use_reply_builders` in
/// the C shim): each string is copied once, from hiredis's read buffer into its Swift value.
///
/// hiredis holds an opaque pointer per reply, and one per array being filled: a ``Node``. A
/// top-level node is retained for hiredis, which hands it to the caller of a read (who takes it
/// with ``take(_:)``) or, when the stream breaks midway, frees it (``chr_swift_free_reply``). An
/// element of an array is stored in its parent node at once; a nested array's node is kept by
/// its parent. Every node is touched by one thread only: the one reading.
enum ReplyBuilder {
    final class Node {
        /// The reply's hiredis type (`REDIS_REPLY_*`).
        let type: Int32
        /// A scalar reply's value.
        var value: RedisValue?
        /// An array's elements so far; a nested array stands as `.null` until it is complete.
        /// Unchecked: only the thread reading touches a node, one call at a time.
        @exclusivity(unchecked) var items: [RedisValue] = []
        /// Nested arrays, by their place in ``items``.
        var nested: [(index: Int, node: Node)] = []

        init(type: Int32, value: RedisValue? = nil, capacity: Int = 0) {
            self.type = type
            self.value = value
            items.reserveCapacity(capacity)
        }

        /// The finished value.
        var finished: RedisValue {
            if let value { return value }
            var items = items
            for (index, node) in nested { items[index] = node.finished }
            return .array(items)
        }
    }

    /// Takes a top-level reply from hiredis: its value, or `nil` for a RESP3 push (which is
    /// never a command's reply). Releases the node (exactly once).
    static func take(_ object: UnsafeMutableRawPointer) -> RedisValue? {
        let node = Unmanaged<Node>.fromOpaque(object).takeRetainedValue()
        return node.type == REDIS_REPLY_PUSH ? nil : node.finished
    }

    /// Stores a scalar: in its parent array, or as a top-level reply.
    /// The value is made in place (`make`), so it is moved into its array, never copied; the
    /// parent is borrowed without a retain (hiredis holds it while it fills it).
    static func attach(type: Int32, to parent: UnsafeMutableRawPointer?, _ make: () -> RedisValue) -> UnsafeMutableRawPointer {
        guard let parent else { return Unmanaged.passRetained(Node(type: type, value: make())).toOpaque() }
        Unmanaged<Node>.fromOpaque(parent)._withUnsafeGuaranteedRef { $0.items.append(make()) }
        return parent
    }

    static func string(_ type: Int32, _ bytes: UnsafeRawBufferPointer) -> RedisValue {
        switch type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes, as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(.server(String(decoding: bytes, as: UTF8.self)))
        case REDIS_REPLY_DOUBLE: return .double(Double(String(decoding: bytes, as: UTF8.self)) ?? .nan)
        default: return .bulkString(Array(bytes))   // strings, verbatim strings, big numbers
        }
    }
}

@_cdecl("chr_swift_build_string")
func chrSwiftBuildString(_ parent: UnsafeMutableRawPointer?, _ type: Int32, _ str: UnsafePointer<CChar>?, _ length: Int) -> UnsafeMutableRawPointer? {
    let bytes = UnsafeRawBufferPointer(start: length > 0 ? str : nil, count: length > 0 ? length : 0)
    return ReplyBuilder.attach(type: type, to: parent) { ReplyBuilder.string(type, bytes) }
}

@_cdecl("chr_swift_build_aggregate")
func chrSwiftBuildAggregate(_ parent: UnsafeMutableRawPointer?, _ type: Int32, _ count: Int) -> UnsafeMutableRawPointer? {
    // hiredis has checked the count against its limits; reserve no more than a sane amount up front.
    let node = ReplyBuilder.Node(type: type, capacity: min(max(count, 0), 1 << 16))
    guard let parent else { return Unmanaged.passRetained(node).toOpaque() }
    let owner = Unmanaged<ReplyBuilder.Node>.fromOpaque(parent).takeUnretainedValue()
    owner.nested.append((owner.items.count, node))
    owner.items.append(.null)
    return Unmanaged.passUnretained(node).toOpaque()
}

@_cdecl("chr_swift_build_integer")
func chrSwiftBuildInteger(_ parent: UnsafeMutableRawPointer?, _ type: Int32, _ value: Int64) -> UnsafeMutableRawPointer? {
    ReplyBuilder.attach(type: type, to: parent) { type == REDIS_REPLY_BOOL ? .boolean(value != 0) : .integer(value) }
}

@_cdecl("chr_swift_build_nil")
func chrSwiftBuildNil(_ parent: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    ReplyBuilder.attach(type: REDIS_REPLY_NIL, to: parent) { .null }
}

@_cdecl("chr_swift_free_reply")
func chrSwiftFreeReply(_ object: UnsafeMutableRawPointer?) {
    guard let object else { return }
    Unmanaged<ReplyBuilder.Node>.fromOpaque(object).release()
}
