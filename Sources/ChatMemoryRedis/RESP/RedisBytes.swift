/// The bytes of a bulk string reply, indexed from 0.
///
/// The strings of one array reply share one buffer, filled as the reply is read, so reading a
/// page of fifty strings usually makes one allocation rather than fifty (the buffer is sized at
/// its first string and grows as an array does). Each `RedisBytes` is a view of
/// its own part of that buffer, and keeps the whole buffer alive while it lives: keep
/// ``array`` (a copy of its part alone) to hold one string for long apart from its reply.
///
/// ```swift
/// let page = try await client.send("LRANGE", "chat:42", "0", "49").array ?? []
/// for case .bulkString(let bytes) in page { print(String(decoding: bytes, as: UTF8.self)) }
/// ```
public struct RedisBytes: Sendable {
    /// The buffer this is a view of.
    private let base: [UInt8]
    /// Where this string is in `base`.
    private let bounds: Range<Int>

    /// The bytes of `bytes`, sharing its storage.
    public init(_ bytes: [UInt8]) {
        base = bytes
        bounds = bytes.indices
    }

    /// The bytes of `bytes`.
    public init(_ bytes: some Sequence<UInt8>) {
        self.init(Array(bytes))
    }

    /// A view of `bounds` in `base` (which must contain them).
    init(sharing base: [UInt8], bounds: Range<Int>) {
        self.base = base
        self.bounds = bounds
    }

    /// The bytes as an array: the buffer itself when this view is all of it, else a copy of this part.
    public var array: [UInt8] {
        bounds == base.indices ? base : Array(base[bounds])
    }

    /// Calls `body` with the bytes in memory (valid only during the call).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try base.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[bounds])) }
    }
}

extension RedisBytes: RandomAccessCollection {
    public typealias Index = Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { bounds.count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < bounds.count, "RedisBytes index out of range")
        return base[bounds.lowerBound + position]
    }

    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try base.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[bounds])) }
    }
}

extension RedisBytes: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: UInt8...) {
        self.init(elements)
    }
}

extension RedisBytes: Hashable {
    public static func == (lhs: RedisBytes, rhs: RedisBytes) -> Bool {
        lhs.count == rhs.count && lhs.withUnsafeBytes { left in rhs.withUnsafeBytes { right in left.elementsEqual(right) } }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension RedisBytes: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `300 bytes`: the contents are the caller's to show (they may be anything).
    public var description: String { "\(count) bytes" }
    public var debugDescription: String { description }
    /// Its own bytes only, never the rest of the buffer it shares.
    public var customMirror: Mirror { Mirror(self, unlabeledChildren: self, displayStyle: .collection) }
}
