import BridgeClock
import Foundation
import Synchronization

/// API tokens for scripts (`Authorization: Bearer TOKEN`), apart from people's passwords: each named,
/// with a role, revocable. `BRIDGE_CONSOLE_TOKENS_FILE` holds one per line, `name:role:sha256-hex`,
/// `#` comments; a token is `bct_` and 256 random bits in hex, so SHA-256 of it is enough (nothing to
/// guess), and the file never holds a token in clear. `bridgectl console token create|list|revoke`
/// edits the file; the console reads it again whenever it changes, so a revocation holds at once.
public struct ConsoleTokens: Sendable {
    public struct Token: Sendable, Equatable {
        public var name: String
        public var role: ConsoleRole
        var hash: String
    }

    public let tokens: [Token]

    public init(lines: String, origin: String = "tokens") throws {
        var tokens: [Token] = []
        for (number, line) in ConfigurationLines.entries(lines) {
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, Self.isName(parts[0]), let role = ConsoleRole(rawValue: parts[1]),
                  parts[2].count == 64, parts[2].allSatisfy(\.isHexDigit) else {
                throw ConsoleConfigurationError("\(origin), entry \(number): expected name:\(ConsoleRole.names):<64 hex digits of sha256(token)> "
                                                + "(made by `bridgectl console token create NAME ROLE`)")
            }
            guard !tokens.contains(where: { $0.name == parts[0] }) else {
                throw ConsoleConfigurationError("\(origin), entry \(number): token \(parts[0]) is listed twice")
            }
            tokens.append(Token(name: parts[0], role: role, hash: parts[2].lowercased()))
        }
        self.tokens = tokens
    }

    /// Letters, digits, `.`, `_` and `-`.
    public static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The line for a token.
    public static func line(name: String, role: ConsoleRole, token: String) -> String { "\(name):\(role.rawValue):\(SecretHash.hex(token))" }

    /// `bct_` and 256 bits from the system's CSPRNG.
    public static func generate() -> String { "bct_" + SessionStore.randomToken() }

    /// The token presented, compared through its hash.
    func token(matching presented: String) -> Token? {
        let hash = SecretHash.hex(presented)
        return tokens.first { constantTimeEqual($0.hash, hash) }
    }

    // MARK: the file, for bridgectl

    /// Adds a token to `file` (created, mode 600, if missing); returns the token, shown this once.
    public static func create(name: String, role: ConsoleRole, file: String) throws -> String {
        guard isName(name) else { throw ConsoleConfigurationError("token name \(name): use letters, digits, '.', '_' and '-'") }
        let text = try read(file)
        let existing = try ConsoleTokens(lines: text, origin: file)
        guard !existing.tokens.contains(where: { $0.name == name }) else {
            throw ConsoleConfigurationError("\(file) already has a token \(name): revoke it first, or choose another name")
        }
        let token = generate()
        let created = Timestamps.iso8601(Date())
        let separator = text.isEmpty || text.hasSuffix("\n") ? "" : "\n"
        try write(text + separator + line(name: name, role: role, token: token) + "  # created \(created)\n", to: file)
        return token
    }

    /// Removes the token `name` from `file`.
    public static func revoke(name: String, file: String) throws {
        let text = try read(file)
        var found = false
        let kept = text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let isIt = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?
                .trimmingCharacters(in: .whitespaces).hasPrefix(name + ":") == true
            found = found || isIt
            return !isIt
        }
        guard found else { throw ConsoleConfigurationError("\(file) has no token \(name)") }
        try write(kept.joined(separator: "\n"), to: file)
    }

    public static func list(file: String) throws -> [Token] { try ConsoleTokens(lines: read(file), origin: file).tokens }

    private static func read(_ file: String) throws -> String {
        guard FileManager.default.fileExists(atPath: file) else { return "" }
        guard let data = FileManager.default.contents(atPath: file) else { throw ConsoleConfigurationError("\(file) cannot be read") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Replaced whole (a new file renamed over the old), readable by its owner only.
    private static func write(_ text: String, to file: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
    }
}

/// The tokens file as the running console sees it: read again when its size, modification time or
/// inode changes (a revocation applies to the next request). A file that cannot be read or parsed
/// lets no token in (and is logged) until it is fixed.
final class TokenRegistry: Sendable {
    private struct Stamp: Equatable {
        var size: Int
        var modified: Date?
        var inode: Int
    }

    let path: String?
    private let onError: @Sendable (String) -> Void
    private let state = Mutex<(stamp: Stamp?, tokens: ConsoleTokens?)>((nil, nil))

    init(path: String?, onError: @escaping @Sendable (String) -> Void) {
        self.path = path
        self.onError = onError
    }

    /// The token presented, if the file holds it now.
    func token(matching presented: String) -> ConsoleTokens.Token? {
        guard let path else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let stamp = attributes.map {
            Stamp(size: ($0[.size] as? NSNumber)?.intValue ?? -1, modified: $0[.modificationDate] as? Date,
                  inode: ($0[.systemFileNumber] as? NSNumber)?.intValue ?? -1)
        }
        let tokens: ConsoleTokens? = state.withLock { state in
            if let stamp, state.stamp == stamp { return state.tokens }
            var loaded: ConsoleTokens?
            do {
                guard stamp != nil, let data = FileManager.default.contents(atPath: path) else {
                    throw ConsoleConfigurationError("console tokens file \(path) cannot be read: no API token is accepted until it can")
                }
                loaded = try ConsoleTokens(lines: String(decoding: data, as: UTF8.self), origin: path)
            } catch {
                onError("\(error)")
            }
            state = (stamp, loaded)
            return loaded
        }
        return tokens?.token(matching: presented)
    }
}
