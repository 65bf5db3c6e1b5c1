import ArgumentParser
import Foundation
import OperationsConsole

/// The operations console's credentials (docs/SECURITY.md): bcrypt lines for the users file, and
/// API tokens for scripts. Nothing here talks to a running console: it reads the users file once at
/// start (restart the alerter after editing it) and the tokens file whenever it changes.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Operations console credentials: bcrypt lines for the users file, API tokens (create, list, revoke).",
        subcommands: [HashPassword.self, Token.self])

    struct HashPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-password",
            abstract: "Print a users-file line name:role:bcrypt for the password read from stdin (its first line).",
            discussion: """
                printf '%s\\n' "$password" | bridgectl console hash-password olivia approver >> console-users
                Roles: viewer, operator, mapper (also saves and restores the GL mapping), approver (also approves held journals), admin (also purges dead letters).
                """)
        @Argument(help: "The user's name.") var name: String
        @Argument(help: "viewer, operator, mapper, approver or admin.") var role: String
        @Option(help: "Bcrypt cost (log2 rounds, 10…16).") var cost: UInt8 = 12

        func validate() throws {
            guard ConsoleRole(rawValue: role) != nil else { throw ValidationError("role \(role): viewer, operator, mapper, approver or admin") }
            guard (10...16).contains(cost) else { throw ValidationError("--cost must be 10…16") }
            guard !name.isEmpty, !name.contains(":"), !name.contains("#"), !name.contains(",") else {
                throw ValidationError("a name cannot be empty or hold ':', '#' or ','")
            }
        }

        func run() throws {
            guard let password = readLine(strippingNewline: true), password.count >= 12 else {
                throw ValidationError("give the password (at least 12 characters) on stdin, e.g. printf '%s\\n' \"$password\" | bridgectl console hash-password …")
            }
            print(ConsoleUsers.line(name: name, role: ConsoleRole(rawValue: role)!, password: password, cost: cost))
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "API tokens for scripts (Authorization: Bearer TOKEN), stored hashed in the tokens file.",
            subcommands: [Create.self, List.self, Revoke.self])

        struct FileOption: ParsableArguments {
            @Option(help: "The tokens file. Default: $BRIDGE_CONSOLE_TOKENS_FILE.")
            var file: String?

            func path() throws -> String {
                guard let path = file ?? ProcessInfo.processInfo.environment["BRIDGE_CONSOLE_TOKENS_FILE"] else {
                    throw ValidationError("which tokens file? pass --file or set BRIDGE_CONSOLE_TOKENS_FILE (the alerter's --console-tokens-file)")
                }
                return path
            }
        }

        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a named token; print it on stdout, once (only its SHA-256 is kept).")
            @OptionGroup var file: FileOption
            @Argument(help: "The token's name (letters, digits, . _ -), e.g. grafana.") var name: String
            @Argument(help: "viewer, operator, mapper, approver or admin.") var role: String

            func run() throws {
                guard let role = ConsoleRole(rawValue: role) else { throw ValidationError("role \(self.role): viewer, operator, mapper, approver or admin") }
                print(try ConsoleTokens.create(name: name, role: role, file: try file.path()))
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The tokens' names and roles (never the tokens).")
            @OptionGroup var file: FileOption

            func run() throws {
                for token in try ConsoleTokens.list(file: try file.path()) { print("\(token.name)\t\(token.role.rawValue)") }
            }
        }

        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a token; the running console refuses it from its next request.")
            @OptionGroup var file: FileOption
            @Argument(help: "The token's name.") var name: String

            func run() throws {
                try ConsoleTokens.revoke(name: name, file: try file.path())
                print("revoked \(name)")
            }
        }
    }
}
