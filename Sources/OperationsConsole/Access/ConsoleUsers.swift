import Foundation

/// What a console user may do: a viewer reads, an operator also replays, purges, approves, rejects
/// and acknowledges.
public enum ConsoleRole: String, Sendable, Codable, Comparable {
    case viewer, `operator`

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs == .viewer && rhs == .operator }
}

/// The console's users, from `BRIDGE_CONSOLE_USERS_FILE` and/or `BRIDGE_CONSOLE_USERS`: one user per
/// line (or comma-separated in the variable), `name:role:sha256-hex-of-secret`, `#` starts a comment.
/// The secret is a password for the login form, or a token for scripts (`Authorization: Bearer TOKEN`);
/// `printf %s 'secret' | sha256sum` gives the hash. No secret is ever stored in clear.
public struct ConsoleUsers: Sendable {
    public struct User: Sendable, Equatable {
        public var name: String
        public var role: ConsoleRole
        var secretHash: String
    }

    public let users: [User]

    public init(lines: String, origin: String = "users") throws {
        var users: [User] = []
        for (number, raw) in lines.split(whereSeparator: { $0 == "\n" || $0 == "," }).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts[0].isEmpty, let role = ConsoleRole(rawValue: parts[1]),
                  parts[2].count == 64, parts[2].allSatisfy(\.isHexDigit) else {
                throw ConsoleConfigurationError("\(origin), entry \(number + 1): expected name:viewer|operator:<64 hex digits of sha256(secret)>")
            }
            users.append(User(name: parts[0], role: role, secretHash: parts[2].lowercased()))
        }
        self.users = users
    }

    /// Users from the file and the variable of `environment` (both may be given).
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConsoleUsers {
        var text = ""
        if let file = file ?? environment["BRIDGE_CONSOLE_USERS_FILE"] {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConsoleConfigurationError("console users file \(file) cannot be read (BRIDGE_CONSOLE_USERS_FILE / --console-users-file)")
            }
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        text += environment["BRIDGE_CONSOLE_USERS"] ?? ""
        let users = try ConsoleUsers(lines: text, origin: file ?? "BRIDGE_CONSOLE_USERS")
        guard !users.users.isEmpty else {
            throw ConsoleConfigurationError("the console has no users: set BRIDGE_CONSOLE_USERS_FILE (lines name:role:sha256-of-password)")
        }
        return users
    }

    /// The line for a user, for docs and tests.
    public static func line(name: String, role: ConsoleRole, secret: String) -> String { "\(name):\(role.rawValue):\(SecretHash.hex(secret))" }

    /// The user with this name and password.
    func authenticate(name: String, secret: String) -> User? {
        let hash = SecretHash.hex(secret)
        return users.first { $0.name == name && constantTimeEqual($0.secretHash, hash) }
    }

    /// The user whose secret is this token.
    func authenticate(token: String) -> User? {
        let hash = SecretHash.hex(token)
        return users.first { constantTimeEqual($0.secretHash, hash) }
    }
}

public struct ConsoleConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Compares secrets without stopping at the first difference.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}
