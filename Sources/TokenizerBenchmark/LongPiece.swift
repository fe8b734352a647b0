import ChatTokenizer
import Foundation

/// `piece ENCODING FILE`: encodes the whole of FILE (one unbroken piece, such as megabytes of
/// letters) once, as ordinary text. Prints one JSON object: the time, the tokens, and the peak
/// resident memory that encoding added beyond what the loaded tokenizer and the text already held.
func benchmarkLongPiece(encodingName: String, path: String) throws {
    guard let encoding = Tokenizer.BundledEncoding(rawValue: encodingName),
          let data = FileManager.default.contents(atPath: path)
    else { usage() }
    let tokenizer = try Tokenizer.bundled(encoding)
    let text = String(decoding: data, as: UTF8.self)
    Measure.resetPeak()
    let before = Measure.residentBytes()
    var tokens = 0
    let time = Measure.times { tokens = tokenizer.encode(text, specialTokens: .plainText).count }
    let added = Measure.peakResidentBytes() - before
    print("""
        {"side":"swift","encoding":"\(encoding.rawValue)","bytes":\(data.count),"tokens":\(tokens),\
        "seconds":\(time.wall),"cpu_seconds":\(time.cpu),"peak_added_bytes":\(added)}
        """)
}
