/// A fast codec for stored entries, so a window read or an append does not pay for `JSONEncoder`
/// and `JSONDecoder` on every message (they dominated a chat server's CPU profile).
///
/// The writer produces the documented form (sorted keys, like ``ChatMessage/jsonEncoder``). The
/// reader understands plain JSON; whenever it meets anything it is not sure about (a fractional
/// number, a value of an unexpected type, bytes that are not UTF-8), it gives up and the caller
/// falls back to `JSONDecoder`, so both paths always agree on what a valid entry is.
enum EntryJSON {}
