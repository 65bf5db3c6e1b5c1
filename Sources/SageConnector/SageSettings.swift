import BridgeSettings
import Foundation
import Logging

/// Which `SageClient` to build and how, read once in `main` from the environment (`EnvironmentReader`: values
/// trimmed, blank is unset). Secrets come from `SAGE_PASSWORD` or the file named by `SAGE_PASSWORD_FILE` (not both),
/// never from committed config.
///
/// | Variable | Default | |
/// |---|---|---|
/// | `SAGE_MODE` | `http` | `http` (Web API) or `file` (GL import folder) |
/// | `SAGE_URL` | | server root, e.g. `http://127.0.0.1:8080` (http) |
/// | `SAGE_COMPANY` | `SAMINC` | company database id (http; journals name it in both modes) |
/// | `SAGE_USER`, `SAGE_PASSWORD` / `SAGE_PASSWORD_FILE` | | Web API user (http) |
/// | `SAGE_TIMEOUT_SECONDS` | `30` | per request (http); import deadline (file) |
/// | `SAGE_READ_RETRIES` | `2` | times a read answered 5xx or cut off is asked again at once (http; `SageConnection.readRetries`) |
/// | `SAGE_IMPORT_DIR` | | the import folder (file) |
public enum SageSettings: Sendable, CustomStringConvertible {
    case webAPI(SageConnection)
    case importFile(SageImportFileClient.Configuration)

    /// A setting missing or wrong (`EnvironmentReader`'s error: the text names the variable).
    public typealias Invalid = SettingsError

    /// `SAGE_COMPANY` when it is not set.
    public static let defaultCompany = "SAMINC"
    /// `SAGE_TIMEOUT_SECONDS` when it is not set.
    public static let defaultTimeoutSeconds = 30

    /// The company database id (`SAGE_COMPANY`), in either mode: journals name it too.
    public static func company(_ environment: EnvironmentReader = EnvironmentReader()) -> String {
        environment.value("SAGE_COMPANY") ?? defaultCompany
    }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) {
        let reader = EnvironmentReader(environment)
        let mode = reader.value("SAGE_MODE")?.lowercased() ?? "http"
        let timeout = Duration.seconds(try reader.integer("SAGE_TIMEOUT_SECONDS", in: 1...Int.max, default: Self.defaultTimeoutSeconds))
        switch mode {
        case "http":
            guard let url = try reader.httpURL("SAGE_URL") else { throw Invalid("SAGE_URL is required for SAGE_MODE=http") }
            let password = try reader.requiredSecret("SAGE_PASSWORD", for: "SAGE_MODE=http")
            var connection = SageConnection(
                server: url, company: Self.company(reader),
                credentials: SageCredentials(user: try reader.required("SAGE_USER", for: "SAGE_MODE=http"), password: password), timeout: timeout)
            connection.readRetries = try reader.integer("SAGE_READ_RETRIES", in: 0...10, default: connection.readRetries)
            self = .webAPI(connection)
        case "file":
            self = .importFile(.init(directory: URL(fileURLWithPath: try reader.required("SAGE_IMPORT_DIR", for: "SAGE_MODE=file")), deadline: timeout))
        case let other:
            throw Invalid("SAGE_MODE must be 'http' or 'file', not '\(other)'")
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
