import ArgumentParser
import ChatMemory

/// `--owner <owner>` on the commands that write or title a session (`--owner-hex`: its bytes in hex).
struct OwnerOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Whose conversation this is (a user or tenant id, UTF-8 text of 1 to 512 bytes): the write marks the session active in the owner's list (`conversations`).",
        valueName: "owner"))
    var owner: String?

    @Flag(name: .customLong("owner-hex"), help: "Read --owner as the id's bytes in hex (for owner ids that are not UTF-8 or hold NUL).")
    var ownerHex = false

    func validate() throws {
        if ownerHex, owner == nil { throw ValidationError("--owner-hex needs --owner") }
        do { _ = try id() } catch { throw ValidationError(error.message) }
    }

    /// The owner id, or `nil` when none was given; an empty, too long or badly written one is a usage error.
    func id() throws(CLIError) -> OwnerID? {
        try owner.map { text throws(CLIError) in try OwnerID.parseOwner(text, hex: ownerHex) }
    }
}

/// The `<owner>` argument of the owner commands (`--hex`: its bytes in hex).
struct OwnerArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("The owner id: UTF-8 text of 1 to 512 bytes (with --hex: its bytes in hex).", valueName: "owner"))
    var owner: String

    @Flag(name: .long, help: "Read <owner> as the id's bytes in hex (61ff62 is the bytes 61 ff 62).")
    var hex = false

    func validate() throws {
        do { _ = try id() } catch { throw ValidationError(error.message) }
    }

    func id() throws(CLIError) -> OwnerID {
        try OwnerID.parseOwner(owner, hex: hex)
    }
}

extension OwnerID {
    /// An owner id given as text, or with `hex` as its bytes in hex; a bad one is a usage error
    /// that says it is the owner.
    static func parseOwner(_ text: String, hex: Bool) throws(CLIError) -> OwnerID {
        do {
            return try SessionID.parse(text, hex: hex)
        } catch {
            throw .usage("invalid owner: " + error.message.replacingOccurrences(of: "session id", with: "owner id"))
        }
    }
}
