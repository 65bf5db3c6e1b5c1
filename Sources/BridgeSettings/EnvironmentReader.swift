import Foundation
import TransportSecurity

/// The one reader of settings from the environment (12-factor: configuration only through environment variables and
/// mounted files), used by every program that reads more than a path or a number.
///
/// **One trimming rule**: a value, from the variable or from the file a `NAME_FILE` variable names, loses its
/// surrounding whitespace and line breaks (spaces, tabs, `\n`, `\r\n`), and a value that is empty after that counts as
/// not set. So `echo secret > file`, a Windows line end or a stray space in a Compose file do not become part of a
/// password; a secret cannot begin or end with a space.
///
/// **Secrets** (`secret(_:)`) come from `NAME` or from the file named by `NAME_FILE` (Compose's `/run/secrets/…`),
/// never both: both set is an error that names the two, so that a stale variable cannot shadow a mounted secret.
///
/// Errors are `SettingsError`s whose text names the variable, fit to print as is.
///
/// **Flags' defaults** (`--prefetch`, default `$BRIDGE_PREFETCH` or 200) are read through `current`: the process's
/// environment, or the one a test gives around parsing (`EnvironmentReader.$current.withValue(reader) { try … .parse(…) }`).
/// A path or a name may be read in the option's default (`= EnvironmentReader.current.value(…) ?? "var/…"`); a value that
/// can be malformed (a number, one of a few words) is read in the options' `validate()`, for a flag not given, so that
/// a malformed value is refused with an error naming the variable and a flag given wins over the variable.
public struct EnvironmentReader: Sendable {
    public let environment: [String: String]

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The environment options take their defaults from: the process's, or the one a test sets for the task.
    @TaskLocal public static var current = EnvironmentReader()

    /// The trimming rule, for text read elsewhere (a flag's value, a file named by a flag).
    public static func trimmed(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// `name`'s value, trimmed; nil when unset or blank.
    public func value(_ name: String) -> String? {
        environment[name].flatMap(Self.trimmed)
    }

    /// `name`'s value, or an error naming it (`for`: when it is required, e.g. `SAGE_MODE=http`).
    public func required(_ name: String, for context: String? = nil) throws(SettingsError) -> String {
        guard let text = value(name) else { throw SettingsError("\(name) is required" + (context.map { " for \($0)" } ?? "")) }
        return text
    }

    /// A secret: `name`'s value or the contents of the file named by `name_FILE`, trimmed; nil when neither is set.
    public func secret(_ name: String) throws(SettingsError) -> String? {
        let fileVariable = "\(name)_FILE"
        guard let file = value(fileVariable) else { return value(name) }
        guard value(name) == nil else {
            throw SettingsError("both \(name) and \(fileVariable) are set: set one (the file is the way for a mounted secret)")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw SettingsError("\(fileVariable) \(file) cannot be read")
        }
        guard let secret = Self.trimmed(text) else { throw SettingsError("\(fileVariable) \(file) is empty") }
        return secret
    }

    /// A secret that must be given, or an error naming both ways to give it.
    public func requiredSecret(_ name: String, for context: String? = nil) throws(SettingsError) -> String {
        guard let text = try secret(name) else {
            throw SettingsError("\(name) (or \(name)_FILE) is required" + (context.map { " for \($0)" } ?? ""))
        }
        return text
    }

    /// A whole number in `range`, `fallback` when unset, or an error naming the variable and what it must be.
    public func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws(SettingsError) -> Int {
        try integer(name, in: range) ?? fallback
    }

    /// A whole number in `range`, nil when unset, or an error naming the variable and what it must be.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            let bounds = range.upperBound == Int.max ? "of at least \(range.lowerBound)" : "in \(range.lowerBound)…\(range.upperBound)"
            throw SettingsError("\(name) must be a whole number \(bounds), not '\(text)'")
        }
        return number
    }

    /// A number of seconds, greater than 0 (or at least 0 with `zeroAllowed`: 0 switches something off), nil when unset,
    /// or an error naming the variable.
    public func seconds(_ name: String, zeroAllowed: Bool = false) throws(SettingsError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite, zeroAllowed ? number >= 0 : number > 0 else {
            throw SettingsError("\(name) must be a number of seconds \(zeroAllowed ? "of at least 0" : "greater than 0"), not '\(text)'")
        }
        return number
    }

    /// One of `Choice`'s raw values (`random`, `listed`) in any case, nil when unset, or an error naming the variable and
    /// the choices.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, of _: Choice.Type = Choice.self) throws(SettingsError) -> Choice?
    where Choice.RawValue == String {
        guard let text = value(name) else { return nil }
        guard let choice = Choice.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            throw SettingsError("\(name) must be one of \(Choice.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return choice
    }

    /// An http(s) URL with a host that the transport policy of the same environment allows (`BRIDGE_REQUIRE_TLS`,
    /// docs/SECURITY.md), or an error naming the variable; nil when unset.
    public func httpURL(_ name: String) throws(SettingsError) -> URL? {
        guard let text = value(name) else { return nil }
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw SettingsError("\(name) '\(text)' is not an http(s) URL")
        }
        do { try TransportPolicy.fromEnvironment(environment).check(http: url, name: name) } catch {
            throw SettingsError(error.description)
        }
        return url
    }
}

/// A setting missing or wrong; the text names the variable.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
