/// The names metrics and spans use for commands: a known command's upper-case name, else
/// `OTHER`, so that a dimension never holds more than the table's bounded set (never a key, never an
/// argument, never a caller's made-up name).
enum CommandNames {
    static let other = "OTHER"
    static let pipeline = "PIPELINE"
    static let transaction = "TRANSACTION"

    /// The command's upper-case name if ``CommandTable`` knows it (in any letter case), else `OTHER`.
    static func name(of command: RedisCommand) -> String {
        CommandTable.info(of: command.arguments)?.name ?? other
    }

    /// The name of a call: its command's for one command, else `PIPELINE` or `TRANSACTION`.
    static func name(of commands: [RedisCommand], inTransaction: Bool) -> String {
        if inTransaction { return transaction }
        return commands.count == 1 ? name(of: commands[0]) : pipeline
    }
}
