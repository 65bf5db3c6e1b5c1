import Foundation
import TransportSecurity
import Logging

/// Which `SageClient` to build and how, read once in `main` from the environment. Secrets come
/// from `SAGE_PASSWORD` or the file named by `SAGE_PASSWORD_FILE`, never from committed config.
///
/// | Variable | Default | |
/// |---|---|---|
/// | `SAGE_MODE` | `http` | `http` (Web API) or `file` (GL import folder) |
/// | `SAGE_URL` | | server root, e.g. `http://127.0.0.1:8080` (http) |
/// | `SAGE_COMPANY` | `SAMINC` | company database id (http) |
/// | `SAGE_USER`, `SAGE_PASSWORD` / `SAGE_PASSWORD_FILE` | | Web API user (http) |
/// | `SAGE_TIMEOUT_SECONDS` | `30` | per request (http); import deadline (file) |
/// | `SAGE_IMPORT_DIR` | | the import folder (file) |
public enum SageSettings: Sendable, CustomStringConvertible {
    case webAPI(SageConnection)
    case importFile(SageImportFileClient.Configuration)

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        func required(_ name: String) throws(Invalid) -> String {
            guard let text = value(name) else { throw Invalid(description: "\(name) is required for SAGE_MODE=\(value("SAGE_MODE") ?? "http")") }
            return text
        }
        var timeout = Duration.seconds(30)
        if let text = value("SAGE_TIMEOUT_SECONDS") {
            guard let seconds = Int(text), seconds > 0 else {
                throw Invalid(description: "SAGE_TIMEOUT_SECONDS must be a positive whole number of seconds, not '\(text)'")
            }
            timeout = .seconds(seconds)
        }
        switch value("SAGE_MODE")?.lowercased() ?? "http" {
        case "http":
            let urlText = try required("SAGE_URL")
            guard let url = URL(string: urlText), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw Invalid(description: "SAGE_URL '\(urlText)' is not an http(s) URL")
            }
            do { try TransportPolicy.fromEnvironment(environment).check(http: url, name: "SAGE_URL") } catch {
                throw Invalid(description: error.description)
            }
            let password: String
            if let file = value("SAGE_PASSWORD_FILE") {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                    throw Invalid(description: "SAGE_PASSWORD_FILE \(file) cannot be read")
                }
                password = text.trimmingCharacters(in: .newlines)
            } else {
                password = try required("SAGE_PASSWORD")
            }
            self = .webAPI(SageConnection(
                server: url, company: value("SAGE_COMPANY") ?? "SAMINC",
                credentials: SageCredentials(user: try required("SAGE_USER"), password: password), timeout: timeout))
        case "file":
            self = .importFile(.init(directory: URL(fileURLWithPath: try required("SAGE_IMPORT_DIR")), deadline: timeout))
        case let other:
            throw Invalid(description: "SAGE_MODE must be 'http' or 'file', not '\(other)'")
        }
    }

    /// How long one call to Sage may take (SAGE_TIMEOUT_SECONDS): after that a post is in doubt, not failed.
    public var timeout: Duration {
        switch self {
        case .webAPI(let connection): connection.timeout
        case .importFile(let configuration): configuration.deadline
        }
    }

    public var description: String {
        switch self {
        case .webAPI(let connection): return connection.description
        case .importFile(let configuration): return "Sage GL import folder \(configuration.directory.path)"
        }
    }

    public func makeClient(logger: Logger) -> any SageClient {
        switch self {
        case .webAPI(let connection): return SageWebAPIClient(connection: connection, logger: logger)
        case .importFile(let configuration): return SageImportFileClient(configuration: configuration, logger: logger)
        }
    }
}
