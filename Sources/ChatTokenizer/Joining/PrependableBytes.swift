/// A byte string that grows at the front in amortised constant time per byte: the bytes sit at
/// the end of a buffer, which doubles when the free room before them runs out.
struct PrependableBytes: Sendable {
    private var storage: [UInt8] = []
    private var start = 0

    /// Puts `bytes`, then a space if `separator`, before the current bytes; returns how many
    /// bytes were added.
    mutating func prepend(_ bytes: UnsafeBufferPointer<UInt8>, separator: Bool) -> Int {
        let added = bytes.count + (separator ? 1 : 0)
        if added > start {
            let length = storage.count - start
            let capacity = max(2 * storage.count, length + added, 64)
            var grown = [UInt8](repeating: 0, count: capacity - length)
            grown.append(contentsOf: storage[start...])
            storage = grown
            start = capacity - length
        }
        start -= added
        storage.withUnsafeMutableBufferPointer { buffer in
            if let source = bytes.baseAddress, let target = buffer.baseAddress, !bytes.isEmpty {
                (target + start).update(from: source, count: bytes.count)
            }
            if separator { buffer[start + bytes.count] = UInt8(ascii: " ") }
        }
        return added
    }

    /// Calls `body` with the bytes.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start...])) }
    }
}
