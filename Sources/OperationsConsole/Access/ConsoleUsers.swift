import BridgeSettings
import Foundation

/// What a console user may do, each role everything the one before it may: a viewer reads; an
/// operator also replays dead letters, rejects held documents and acknowledges alerts, fraud
/// exceptions and customer matches; a mapper also saves and restores the GL mapping (which account every
/// future journal posts to) and the fraud rules; an approver also approves held journals (releases them to be
/// posted); an admin also purges parking lots (deletes messages for good).
public enum ConsoleRole: String, Sendable, Codable, Comparable, CaseIterable {
    case viewer, `operator`, mapper, approver, admin

    private var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    static let names = allCases.map(\.rawValue).joined(separator: "|")
}

/// The console's people, from `BRIDGE_CONSOLE_USERS_FILE` and/or `BRIDGE_CONSOLE_USERS`: one user per
/// line (or comma-separated in the variable), `name:role:bcrypt-hash`, `#` starts a comment
/// (`bridgectl console hash-password NAME ROLE` prints a line for a password read from stdin).
/// The legacy form `name:role:sha256-hex` is still read, during the transition (docs/SECURITY.md),
/// and `legacyNames` lists who is still on it, for a warning at start-up. A password logs in through
/// the form only: scripts use API tokens (`ConsoleTokens`).
public struct ConsoleUsers: Sendable {
    public struct User: Sendable, Equatable {
        public var name: String
        public var role: ConsoleRole
        /// Nil for an API token's principal (`token:NAME`).
        var hash: PasswordHash?
    }

    public let users: [User]

    /// Users whose line still holds an unsalted SHA-256 instead of bcrypt.
    public var legacyNames: [String] { users.filter { $0.hash?.isLegacy == true }.map(\.name) }

    public init(lines: String, origin: String = "users") throws {
        var users: [User] = []
        for (number, line) in ConfigurationLines.entries(lines) {
            let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, !parts[0].isEmpty, let role = ConsoleRole(rawValue: parts[1]), let hash = PasswordHash(parts[2]) else {
                throw ConsoleConfigurationError("\(origin), entry \(number): expected name:\(ConsoleRole.names):<bcrypt hash> "
                                                + "(print one with `bridgectl console hash-password NAME ROLE < password-file`)")
            }
            guard !users.contains(where: { $0.name == parts[0] }) else {
                throw ConsoleConfigurationError("\(origin), entry \(number): user \(parts[0]) is listed twice")
            }
            users.append(User(name: parts[0], role: role, hash: hash))
        }
        self.users = users
    }

    /// Users from the file and the variable of `environment` (both may be given: a list, not a secret, so the two are
    /// joined rather than refused as `EnvironmentReader.secret` refuses both; values trimmed by the same rule).
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConsoleUsers {
        let reader = EnvironmentReader(environment)
        var text = ""
        if let file = file ?? reader.value("BRIDGE_CONSOLE_USERS_FILE") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConsoleConfigurationError("console users file \(file) cannot be read (BRIDGE_CONSOLE_USERS_FILE / --console-users-file)")
            }
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        text += reader.value("BRIDGE_CONSOLE_USERS") ?? ""
        let users = try ConsoleUsers(lines: text, origin: file ?? "BRIDGE_CONSOLE_USERS")
        guard !users.users.isEmpty else {
            throw ConsoleConfigurationError("the console has no users: set BRIDGE_CONSOLE_USERS_FILE (lines name:role:bcrypt-hash, "
                                            + "printed by `bridgectl console hash-password NAME ROLE`)")
        }
        return users
    }

    /// The line for a user (bcrypt; blocks for the hash's cost: tools and tests, not the server).
    public static func line(name: String, role: ConsoleRole, password: String, cost: UInt8 = 12) -> String {
        "\(name):\(role.rawValue):\(PasswordHash.newHash(password, cost: cost))"
    }

    /// The user with this name and password. Bcrypt runs on NIO's thread pool, not the cooperative
    /// pool; an unknown name costs the same as a wrong password, so names cannot be probed by timing.
    func authenticate(name: String, password: String) async -> User? {
        guard let user = users.first(where: { $0.name == name }) else {
            _ = await PasswordHash.unknownUser.verify(password)
            return nil
        }
        guard let hash = user.hash else { return nil }
        return await hash.verify(password) ? user : nil
    }
}

public struct ConsoleConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The entries of a users or tokens file: `#` comments, blank lines and surrounding spaces dropped,
/// lines (or comma-separated entries) numbered from 1.
enum ConfigurationLines {
    static func entries(_ text: String) -> [(number: Int, line: String)] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "," }).enumerated().compactMap { index, raw in
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            return line.isEmpty ? nil : (index + 1, line)
        }
    }
}

/// Compares secrets without stopping at the first difference.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}
