/// A fast codec for stored entries, so a window read or an append does not pay for `JSONEncoder`
/// and `JSONDecoder` on every message (they dominated a chat server's CPU profile).
///
/// The writer produces the documented form (sorted keys, like ``ChatMessage/jsonEncoder``).
///
/// The reader's contract, for any byte string (checked by a differential fuzz test against
/// `JSONDecoder`, `Scripts/fuzz-entry-json.sh`):
/// - ``StoredEntry/decode(_:)`` returns what ``StoredEntry/decodedWithFoundation(_:)`` returns
///   (the same message, tokens and counter, or `nil` for both), with one exception: an entry in
///   which any object, at any depth, repeats a key is `nil` (not ours), where `JSONDecoder` would
///   silently keep the first value and the append script, matching the element's first bytes,
///   the first `id`. Keys are compared after unescaping, as Swift strings: `"id"` and `"i\u0064"`
///   are the same key, and so are two canonically equivalent spellings of `"é"` (a dictionary
///   merges them). A key `JSONDecoder` cannot read (see ``EntryJSON/Value/badString``) takes
///   no part: it can only sit in an object nothing reads.
/// - To see every repeated key, ``parse(_:)`` accepts exactly what `JSONDecoder` scans as JSON,
///   including what it tolerates: trailing commas, a byte order mark, UTF-16 and UTF-32 input,
///   512 levels of nesting, and anything between the quotes of a string or after the first
///   character of a number in a value nothing reads (`{"x":"\q","y":012}` is fine until `x` or
///   `y` is decoded). What it calls malformed, `JSONDecoder` rejects too.
/// - The fast path reads only what it reads exactly like `JSONDecoder`: strings (every escape,
///   surrogate pairs; a lone surrogate, an unknown escape such as `\u+07f`, a control character
///   or invalid UTF-8 makes a string unreadable) and plain integers of at most 18 digits. A
///   value in any other form (`1e5`, `1.0`, `5e18`, `012`, an unreadable string where one is read,
///   a value of an unexpected type) sends the entry to `JSONDecoder`, which decides; so does
///   anything that is not a well-formed entry.
enum EntryJSON {}
