/// The elements of an array reply, indexed from 0.
///
/// An array of bulk strings only (a page of `LRANGE`, an `MGET` with every key set) is kept as
/// it was read: one buffer with the strings one after the other, and where each one ends. Its
/// elements are made when they are read (each a ``RedisBytes`` view of the buffer), so no value
/// is made, retained or released per string unless the caller reads it, and dropping the reply
/// frees two allocations.
/// Any other array keeps its elements as values.
///
/// ```swift
/// let page = try await client.send("LRANGE", "chat:42", "0", "49").array ?? []
/// for case .bulkString(let bytes) in page { print(String(decoding: bytes, as: UTF8.self)) }
/// ```
public struct RedisArray: Sendable {
    private enum Storage: Sendable {
        case values([RedisValue])
        /// Bulk strings: `buffer` holds them one after the other; string `i` ends at `ends[i]`
        /// and starts where the one before it ended (at 0 for the first).
        case strings(buffer: [UInt8], ends: [Int])
    }

    private let storage: Storage

    /// An array of these values.
    public init(_ values: [RedisValue]) {
        storage = .values(values)
    }

    /// Bulk strings laid out one after the other in `buffer`, string `i` ending at `ends[i]`
    /// (ascending, each within the buffer: the reply builder's layout).
    init(strings buffer: [UInt8], ends: [Int]) {
        storage = .strings(buffer: buffer, ends: ends)
    }
}

extension RedisArray: RandomAccessCollection {
    public typealias Index = Int

    public var startIndex: Int { 0 }

    public var endIndex: Int {
        switch storage {
        case .values(let values): return values.count
        case .strings(_, let ends): return ends.count
        }
    }

    public subscript(position: Int) -> RedisValue {
        switch storage {
        case .values(let values):
            return values[position]
        case .strings(let buffer, let ends):
            let start = position == 0 ? 0 : ends[position - 1]
            return .bulkString(RedisBytes(sharing: buffer, bounds: start..<ends[position]))
        }
    }
}

extension RedisArray: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: RedisValue...) {
        self.init(elements)
    }
}

extension RedisArray: Hashable {
    public static func == (lhs: RedisArray, rhs: RedisArray) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}

extension RedisArray: CustomStringConvertible {
    /// `[…]` with each element's description.
    public var description: String {
        "[" + map(\.description).joined(separator: ", ") + "]"
    }
}
