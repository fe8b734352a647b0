import CHiredis

/// Builds ``RedisValue``s while hiredis's reader parses a reply (see `chr_use_reply_builders` in
/// the C shim): each string is copied once, from hiredis's read buffer into its Swift value. The
/// bulk strings of an array are copied into one buffer the array's node keeps (one allocation
/// for all of them, usually); while the array is read the node notes only where each one ends.
/// An array of bulk strings alone keeps just that (``RedisArray`` makes its elements when they
/// are read); any other array's elements are made in one pass when it is finished.
///
/// hiredis holds an opaque pointer per reply, and one per array being filled: a ``Node``. A
/// top-level node is retained for hiredis, which hands it to the caller of a read (who takes it
/// with ``take(_:)``) or, when the stream breaks midway, frees it (``chr_swift_free_reply``). An
/// element of an array is noted in its parent node at once; a nested array's node is kept by
/// its parent. Every node is touched by one thread only: the one reading.
enum ReplyBuilder {
    final class Node {
        /// The reply's hiredis type (`REDIS_REPLY_*`).
        let type: Int32
        /// A scalar reply's value.
        var value: RedisValue?
        /// An array's elements so far, in order: a bulk string as where it ends in ``strings``
        /// (it starts where the one before it ended), any other element as `~i` (a negative
        /// number) for its place `i` in ``others``. Whole numbers only, so noting one costs no
        /// reference counting.
        /// Unchecked: only the thread reading touches a node, one call at a time.
        @exclusivity(unchecked) var slots: [Int] = []
        /// The bytes of the array's bulk strings, one after the other.
        @exclusivity(unchecked) var strings: [UInt8] = []
        /// The array's elements that are not bulk strings; a nested array stands as `.null` until
        /// it is complete.
        var others: [RedisValue] = []
        /// Nested arrays, by their place in ``others``.
        var nested: [(index: Int, node: Node)] = []
        /// How many elements the array has.
        let count: Int

        init(type: Int32, value: RedisValue? = nil, count: Int = 0) {
            self.type = type
            self.value = value
            self.count = count
            // hiredis has checked the count against its limits; reserve no more than a sane amount up front.
            slots.reserveCapacity(min(count, 1 << 16))
        }

        /// Appends a bulk string of the array: its bytes go into ``strings``. The buffer is sized
        /// at the first string for all the elements to come being as long (at most 1 MiB more
        /// than the string), and grows as an array does from there.
        func appendString(_ bytes: UnsafeRawBufferPointer) {
            if strings.capacity == 0 {
                let (all, overflow) = max(count - slots.count, 1).multipliedReportingOverflow(by: bytes.count)
                strings.reserveCapacity(overflow ? bytes.count : min(all, bytes.count + (1 << 20)))
            }
            strings.append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
            slots.append(strings.count)
        }

        /// Appends an element that is not a bulk string.
        func append(_ element: RedisValue) {
            slots.append(~others.count)
            others.append(element)
        }

        /// The finished value (taken once: the node gives up its elements). An array of bulk
        /// strings only keeps the buffer and where each string ends, as read (``RedisArray``).
        func finish() -> RedisValue {
            if let value { return value }
            defer { slots = []; others = []; strings = [] }
            // An empty array takes this way too: `Array(unsafeUninitializedCapacity: 0)` would
            // write to the shared empty array's storage (a race the thread sanitizer reports).
            if others.isEmpty { return .array(RedisArray(strings: strings, ends: slots)) }
            for (index, node) in nested { others[index] = node.finish() }
            let buffer = strings
            var start = 0
            let items = [RedisValue](unsafeUninitializedCapacity: slots.count) { elements, initialized in
                for slot in slots {
                    if slot >= 0 {
                        elements.initializeElement(at: initialized, to: .bulkString(RedisBytes(sharing: buffer, bounds: start..<slot)))
                        start = slot
                    } else {
                        elements.initializeElement(at: initialized, to: others[~slot])
                    }
                    initialized += 1
                }
            }
            return .array(RedisArray(items))
        }
    }

    /// Takes a top-level reply from hiredis: its value, or `nil` for a RESP3 push (which is
    /// never a command's reply). Releases the node (exactly once).
    static func take(_ object: UnsafeMutableRawPointer) -> RedisValue? {
        let node = Unmanaged<Node>.fromOpaque(object).takeRetainedValue()
        return node.type == REDIS_REPLY_PUSH ? nil : node.finish()
    }

    /// Stores a scalar: in its parent array, or as a top-level reply.
    /// The value is made in place (`make`), so it is moved into its array, never copied; the
    /// parent is borrowed without a retain (hiredis holds it while it fills it).
    static func attach(type: Int32, to parent: UnsafeMutableRawPointer?, _ make: () -> RedisValue) -> UnsafeMutableRawPointer {
        guard let parent else { return Unmanaged.passRetained(Node(type: type, value: make())).toOpaque() }
        Unmanaged<Node>.fromOpaque(parent)._withUnsafeGuaranteedRef { $0.append(make()) }
        return parent
    }

    /// Whether a string of this type is a bulk string (strings, verbatim strings, big numbers).
    static func isBulk(_ type: Int32) -> Bool {
        type != REDIS_REPLY_STATUS && type != REDIS_REPLY_ERROR && type != REDIS_REPLY_DOUBLE
    }

    static func string(_ type: Int32, _ bytes: UnsafeRawBufferPointer) -> RedisValue {
        switch type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes, as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(.server(String(decoding: bytes, as: UTF8.self)))
        case REDIS_REPLY_DOUBLE: return .double(Double(String(decoding: bytes, as: UTF8.self)) ?? .nan)
        default: return .bulkString(RedisBytes(Array(bytes)))
        }
    }
}

@_cdecl("chr_swift_build_string")
func chrSwiftBuildString(_ parent: UnsafeMutableRawPointer?, _ type: Int32, _ str: UnsafePointer<CChar>?, _ length: Int) -> UnsafeMutableRawPointer? {
    let bytes = UnsafeRawBufferPointer(start: length > 0 ? str : nil, count: length > 0 ? length : 0)
    guard let parent, ReplyBuilder.isBulk(type) else {
        return ReplyBuilder.attach(type: type, to: parent) { ReplyBuilder.string(type, bytes) }
    }
    Unmanaged<ReplyBuilder.Node>.fromOpaque(parent)._withUnsafeGuaranteedRef { $0.appendString(bytes) }
    return parent
}

@_cdecl("chr_swift_build_aggregate")
func chrSwiftBuildAggregate(_ parent: UnsafeMutableRawPointer?, _ type: Int32, _ count: Int) -> UnsafeMutableRawPointer? {
    let node = ReplyBuilder.Node(type: type, count: max(count, 0))
    guard let parent else { return Unmanaged.passRetained(node).toOpaque() }
    let owner = Unmanaged<ReplyBuilder.Node>.fromOpaque(parent).takeUnretainedValue()
    owner.nested.append((owner.others.count, node))
    owner.append(.null)
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
