import Foundation

/// What a summary entry records besides its text, under its `summary` key:
///
///     {"id":"summary:…","kind":"summary","v":1,"tokens":40,"counter":"cl100k_base",
///      "summary":{"covered":120,"covers":["m1","m2"],"replaces":"summary:…"},
///      "message":{"content":"…","created_at":…,"id":"summary:…","role":"system"}}
///
/// `covers` lists the ids of the messages this compaction folded (oldest first), `replaces` the
/// summary it folded with them (which covered everything before), `covered` every message the
/// summary stands for. A reader that knows no kinds reads the entry as the system message it
/// holds, at the oldest end of the session.
struct SummaryMetadata: Sendable, Hashable, Decodable {
    static let kind = "summary"

    var covers: [String] = []
    var covered: Int?
    var replaces: String?

    init(covers: [String] = [], covered: Int? = nil, replaces: String? = nil) {
        self.covers = covers
        self.covered = covered
        self.replaces = replaces
    }

    enum CodingKeys: String, CodingKey { case covers, covered, replaces }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        covers = try c.decodeIfPresent([String].self, forKey: .covers) ?? []
        covered = try c.decodeIfPresent(Int.self, forKey: .covered)
        replaces = try c.decodeIfPresent(String.self, forKey: .replaces)
    }

    /// The fast path's reading of the `summary` value: what `JSONDecoder` reads, or `nil` when
    /// the value needs its judgement (an absent or null value is an empty record, like a record
    /// `JSONDecoder` cannot read).
    init?(fast value: EntryJSON.Value?) {
        switch value {
        case nil, .null?: return
        case .object?: break
        default: return nil
        }
        guard let value, value.isReadableObject else { return nil }
        switch value["covers"] {
        case .array(let items)?:
            for item in items {
                guard case .string(let id) = item else { return nil }
                covers.append(id)
            }
        case nil, .null?: break
        default: return nil
        }
        switch value["covered"] {
        case .integer(let count)?: covered = Int(count)
        case nil, .null?: break
        default: return nil
        }
        switch value["replaces"] {
        case .string(let id)?: replaces = id
        case nil, .null?: break
        default: return nil
        }
    }

    /// Writes the entry of a summary: the envelope of its system message with `kind` and `summary`.
    static func encode(_ summary: ChatSummary, counter: String) -> [UInt8] {
        var bytes = Array(#"{"id":"#.utf8)
        EntryJSON.writeString(summary.id, to: &bytes)
        bytes += Array(#","kind":"summary","v":\#(StoredEntry.version),"tokens":\#(summary.tokens),"counter":"#.utf8)
        EntryJSON.writeString(counter, to: &bytes)
        bytes += Array(#","summary":{"covered":\#(summary.coveredMessageCount),"covers":["#.utf8)
        for (index, id) in summary.coveredMessageIDs.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            EntryJSON.writeString(id, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
        if let replaced = summary.replacedSummaryID {
            bytes += Array(#","replaces":"#.utf8)
            EntryJSON.writeString(replaced, to: &bytes)
        }
        bytes += Array(#"},"message":"#.utf8)
        EntryJSON.writeMessage(summary.message, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
