import ChatMemory
import Foundation
import Redis

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Redis configuration of a run: the server from `--url` or `REDIS_URL`, the credentials from
/// `--password-file`, `REDIS_PASSWORD`/`REDIS_USERNAME` or the URL. No password ever appears in
/// an error: credentials are split off the URL here, before the URL is parsed.
enum RedisSettings {
    static let defaultURL = "redis://127.0.0.1:6379"
    /// A password file longer than this is refused (it is not a password).
    static let maxPasswordFileSize = 65_536

    /// The configuration to connect with. Precedence: the password from `passwordFile`, else
    /// `REDIS_PASSWORD`, else the URL; the user from `REDIS_USERNAME`, else the URL.
    static func configuration(url: String?, passwordFile: String?) throws(CLIError) -> RedisConfiguration {
        let environmentURL = try environment("REDIS_URL")
        let (parsed, fromURL) = try parse(url ?? environmentURL ?? defaultURL)
        var configuration = parsed
        let environmentPassword = try environment("REDIS_PASSWORD")
        var password = environmentPassword ?? fromURL?.password
        if let passwordFile { password = try readPassword(passwordFile) }
        let environmentUser = try environment("REDIS_USERNAME")
        let username = environmentUser ?? fromURL?.username
        guard let password else {
            if username != nil { throw .usage("REDIS_USERNAME is set but no password is given (REDIS_PASSWORD, --password-file or the URL)") }
            return configuration
        }
        // The one place credentials are applied.
        configuration.credentials = RedisConfiguration.Credentials(username: username, password: password)
        return configuration
    }

    /// Parses a URL whose `user:password@` part (up to the last '@', so a raw '/', ':' or '@' in the
    /// password is fine; the user ends at the first ':') is split off first: errors show
    /// `<redacted>` in its place.
    static func parse(_ url: String) throws(CLIError) -> (RedisConfiguration, RedisConfiguration.Credentials?) {
        let schemeEnd = url.range(of: "://")
        let bodyStart = schemeEnd?.upperBound ?? url.startIndex
        // A unix socket path may hold '@'; the library refuses credentials in that scheme anyway.
        guard url[..<(schemeEnd?.lowerBound ?? url.startIndex)].lowercased() != "unix",
              let at = url[bodyStart...].lastIndex(of: "@") else {
            return (try plainConfiguration(url, shownAs: url), nil)
        }
        let userInfo = url[bodyStart..<at]
        let withoutCredentials = String(url[..<bodyStart] + url[url.index(after: at)...])
        // The whole user-info part is hidden: which of its ':' ends the user is the URL's to say.
        let shown = url[..<bodyStart] + "<redacted>" + url[at...]
        let colon = userInfo.firstIndex(of: ":")
        let invalid = { (why: String) in CLIError.usage("invalid Redis URL \(printable(String(shown))): \(why)") }
        guard let colon else { throw invalid("credentials before '@' must be user:password or :password") }
        guard let user = percentDecoded(userInfo[..<colon]), let password = percentDecoded(userInfo[userInfo.index(after: colon)...]) else {
            throw invalid("bad percent-encoding in the user or password (write a '%' as %25)")
        }
        guard !password.isEmpty else { throw invalid("empty password") }
        let configuration = try plainConfiguration(withoutCredentials, shownAs: String(shown))
        return (configuration, RedisConfiguration.Credentials(username: user.isEmpty ? nil : user, password: password))
    }

    /// Parses a URL without credentials; its errors name the URL as `shown`.
    private static func plainConfiguration(_ url: String, shownAs shown: String) throws(CLIError) -> RedisConfiguration {
        do {
            return try RedisConfiguration(url: url)
        } catch {
            let message = (error as? RedisError)?.message ?? "\(error)"
            throw .usage(printable(url == shown ? message : message.replacingOccurrences(of: url, with: shown)))
        }
    }

    /// The password in `path`, without one trailing newline.
    private static func readPassword(_ path: String) throws(CLIError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .runtime("cannot read the password file \(printable(path)): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= maxPasswordFileSize {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .runtime("cannot read the password file \(printable(path)): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        guard bytes.count <= maxPasswordFileSize else { throw .usage("the password file \(printable(path)) is longer than \(maxPasswordFileSize) bytes") }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard !bytes.isEmpty else { throw .usage("the password file \(printable(path)) is empty") }
        guard let password = String(validating: bytes, as: UTF8.self) else {
            throw .usage("the password file \(printable(path)) is not UTF-8 text")
        }
        return password
    }

    /// A non-empty environment variable; one that is not UTF-8 is a usage error (never repaired).
    private static func environment(_ name: String) throws(CLIError) -> String? {
        guard let value = getenv(name), value.pointee != 0 else { return nil }
        guard let text = String(validatingCString: value) else { throw .usage("\(name) is not UTF-8 text") }
        return text
    }

    /// Decodes `%XX` escapes; nil when an escape is malformed or the result is not UTF-8.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexDigitValue), let low = iterator.next().flatMap(hexDigitValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
