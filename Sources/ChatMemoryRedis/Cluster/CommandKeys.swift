/// Which arguments of a command are keys, for routing it in a Redis Cluster.
///
/// Known commands take their key positions from ``CommandTable``; any other command is taken to
/// have its key at argument 1 (most data commands do). A wrong guess costs a `MOVED` redirect,
/// never a wrong answer: the server checks every key itself.
enum CommandKeys {
    /// The keys of `arguments` (the name first); empty for a command without keys.
    static func keys(of arguments: [[UInt8]]) -> [[UInt8]] {
        guard !arguments.isEmpty else { return [] }
        let count = arguments.count
        func at(_ positions: some Sequence<Int>) -> [[UInt8]] {
            positions.compactMap { $0 < count ? arguments[$0] : nil }
        }
        /// Keys counted by a `numkeys` argument at `index`, following it.
        func counted(at index: Int) -> [[UInt8]] {
            guard index < count, let number = Int(String(decoding: arguments[index], as: UTF8.self)), number > 0 else { return [] }
            // `number` may be up to Int.max: compare it with what is left, never add it.
            return at((index + 1)..<(index + 1 + min(number, count - index - 1)))
        }
        switch CommandTable.info(of: arguments)?.keys ?? .first {
        case .none:
            return []
        case .first:
            return at(1..<2)
        case .firstTwo:
            return at(1..<3)
        case .second:
            return at(2..<3)
        case .all:
            return at(1..<count)
        case .allFromSecond:
            return at(2..<max(2, count))
        case .allButLast:
            return at(1..<max(1, count - 1))
        case .alternate:
            return at(stride(from: 1, to: count, by: 2))
        case .counted(let index):
            return counted(at: index)
        case .firstAndCounted:
            return at(1..<2) + counted(at: 2)
        case .streams(let optionsStart):
            guard optionsStart < count,
                  let streams = arguments[optionsStart...].firstIndex(where: { ASCII.equalsIgnoringCase($0, ASCII.streams) }) else { return [] }
            let rest = count - streams - 1
            return at((streams + 1)..<(streams + 1 + rest / 2))
        case .memoryUsage:
            return count > 2 && ASCII.equalsIgnoringCase(arguments[1], ASCII.usage) ? at(2..<3) : []
        }
    }
}
