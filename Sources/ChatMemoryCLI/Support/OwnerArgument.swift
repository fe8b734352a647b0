import ArgumentParser
import ChatMemory

/// `--owner <owner>` on the commands that write or title a session.
struct OwnerOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Whose conversation this is (a user or tenant id, UTF-8 text of 1 to 512 bytes): the write marks the session active in the owner's list (`conversations`).",
        valueName: "owner"))
    var owner: String?

    func validate() throws {
        do { _ = try id() } catch { throw ValidationError(error.message) }
    }

    /// The owner id, or `nil` when none was given; an empty or too long one is a usage error.
    func id() throws(CLIError) -> OwnerID? {
        try owner.map { text throws(CLIError) in try OwnerID.parseOwner(text) }
    }
}

/// The `<owner>` argument of the owner commands.
struct OwnerArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The owner id: UTF-8 text of 1 to 512 bytes.", valueName: "owner"))
    var owner: String

    func validate() throws {
        do { _ = try id() } catch { throw ValidationError(error.message) }
    }

    func id() throws(CLIError) -> OwnerID {
        try OwnerID.parseOwner(owner)
    }
}

extension OwnerID {
    /// An owner id given as text; an empty or too long one is a usage error that names the owner.
    static func parseOwner(_ text: String) throws(CLIError) -> OwnerID {
        do {
            return try OwnerID(text)
        } catch {
            throw .usage("invalid owner: an owner id is UTF-8 text of 1 to \(OwnerID.maxLength) bytes (got \(text.utf8.count))")
        }
    }
}
