import Alerter
import ArgumentParser
import BridgeSettings
import Foundation
import Logging
import MappingEditor
import Messaging
import OperationsConsole
import SageConnector
import WorkerRuntime

/// The operations console the alerter serves beside its stage (off unless a port is given).
struct ConsoleOptions: ParsableArguments {
    @Option(help: "Port of the operations console (0: no console). Default: $BRIDGE_CONSOLE_PORT or 0.")
    var consolePort: Int?
    @Option(help: "Address of the operations console. Default: $BRIDGE_CONSOLE_HOST or 127.0.0.1.")
    var consoleHost: String = EnvironmentReader.current.value("BRIDGE_CONSOLE_HOST") ?? "127.0.0.1"
    @Option(help: "Console users, lines name:viewer|operator|mapper|approver|admin:bcrypt-hash (bridgectl console hash-password). Default: $BRIDGE_CONSOLE_USERS_FILE (and/or $BRIDGE_CONSOLE_USERS).")
    var consoleUsersFile: String?
    @Option(help: "API tokens for scripts, lines name:role:sha256-of-token (bridgectl console token create). Default: $BRIDGE_CONSOLE_TOKENS_FILE; none: no token is accepted.")
    var consoleTokensFile: String?
    @Option(help: "Reverse proxies whose X-Forwarded-For names the client (addresses, IPv4 blocks; comma-separated). Default: $BRIDGE_CONSOLE_TRUSTED_PROXIES.")
    var consoleTrustedProxies: String?
    @Flag(help: "Session cookie without Secure, for plain-HTTP development only. Default: on when $BRIDGE_CONSOLE_INSECURE_COOKIES is 1.")
    var consoleInsecureCookies = false
    @Option(help: "The fraud-scorer's review store, for the review pages. Default: $BRIDGE_REVIEW_DB or var/fraud-reviews.sqlite.")
    var reviewStore: String = EnvironmentReader.current.value("BRIDGE_REVIEW_DB") ?? "var/fraud-reviews.sqlite"
    @Option(help: "The fraud-scorer's feature store, read-only: the evidence on a fraud exception's page. Default: $BRIDGE_FEATURE_STORE or var/fraud-features.sqlite.")
    var featureStore: String = EnvironmentReader.current.value("BRIDGE_FEATURE_STORE") ?? "var/fraud-features.sqlite"
    @Option(help: "Each store's opening hours, as the fraud-scorer has them (shown on an out-of-hours exception). Default: $BRIDGE_STORE_HOURS; none: 06:30-24:00 everywhere.")
    var storeHours: String?
    @Option(name: .customLong("management-url"), help: "RabbitMQ management API for the pipeline page. Default: $BRIDGE_MANAGEMENT_URL.")
    var managementURL: String?
    @Option(name: .customLong("console-amqp-url"),
            help: "Broker URL for dead letters, releases and audit notices (a user allowed to read every S.dlq). Default: $BRIDGE_CONSOLE_AMQP_URL, else the worker's.")
    var consoleAMQPURL: String?

    @Option(help: "The GL mapping file the transformer reads, edited on the console's mapping page. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
    var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
    @Option(help: "Where the mapping's saved versions are kept (SQLite). Default: $BRIDGE_MAPPING_VERSIONS or var/mapping-versions.sqlite.")
    var mappingVersions: String = EnvironmentReader.current.value("BRIDGE_MAPPING_VERSIONS") ?? "var/mapping-versions.sqlite"
    @Option(help: "heartland-ingest's inbox, read-only: the last 30 days the mapping page checks against and previews. Default: $BRIDGE_INGEST_INBOX or var/heartland-ingest.sqlite.")
    var ingestInbox: String = EnvironmentReader.current.value("BRIDGE_INGEST_INBOX") ?? "var/heartland-ingest.sqlite"

    @Option(help: "The fraud-scorer's rule file, edited on the console's rules page. Default: $BRIDGE_FRAUD_RULES; none: no rules page.")
    var fraudRules: String?
    @Option(help: "Where the fraud rules' saved versions are kept (SQLite). Default: $BRIDGE_RULES_VERSIONS or var/rules-versions.sqlite.")
    var rulesVersions: String = EnvironmentReader.current.value("BRIDGE_RULES_VERSIONS") ?? "var/rules-versions.sqlite"

    /// The console's port: `--console-port`, `$BRIDGE_CONSOLE_PORT` (after `validate()`), else 0 (no console).
    var resolvedPort: Int { consolePort ?? 0 }

    /// Takes the port from the environment when no flag gives it (`EnvironmentReader.current`; a malformed one is refused, named).
    mutating func validate() throws {
        if let consolePort, !(0...65535).contains(consolePort) { throw ValidationError("--console-port must be between 0 and 65535, not \(consolePort)") }
        do { consolePort = try consolePort ?? EnvironmentReader.current.integer("BRIDGE_CONSOLE_PORT", in: 0...65535) } catch {
            throw ValidationError(String(describing: error))
        }
    }

    func server(operations: OperationsStore, customerReviews: CustomerReviewStore? = nil, worker: WorkerOptions, logger: Logger) throws -> ConsoleServer {
        let environment = ProcessInfo.processInfo.environment
        let users = try ConsoleUsers.load(file: consoleUsersFile)
        let amqpURL = consoleAMQPURL ?? environment["BRIDGE_CONSOLE_AMQP_URL"] ?? worker.amqpURL ?? environment["BRIDGE_AMQP_URL"]
        let configuration = OperationsConsole.Configuration(
            users: users, stages: OperationsConsole.Configuration.stages(in: try worker.loadTopology()), operations: operations,
            reviewStorePath: reviewStore, amqpURL: amqpURL, managementURL: managementURL ?? environment["BRIDGE_MANAGEMENT_URL"])
        var withReviews = configuration
        withReviews.customerReviews = customerReviews
        withReviews.featureStorePath = featureStore
        try withReviews.loadStoreHours(from: storeHours ?? environment["BRIDGE_STORE_HOURS"])
        withReviews.tokensFile = consoleTokensFile ?? environment["BRIDGE_CONSOLE_TOKENS_FILE"]
        withReviews.trustedProxies = try TrustedProxies(consoleTrustedProxies ?? environment["BRIDGE_CONSOLE_TRUSTED_PROXIES"] ?? "")
        withReviews.secureCookies = !(consoleInsecureCookies || environment["BRIDGE_CONSOLE_INSECURE_COOKIES"] == "1")
        // Sage's chart for the mapping page, through the Web API (SAGE_URL…); without SAGE_URL the page says so. Settings
        // that name a Sage but are wrong (both SAGE_PASSWORD and SAGE_PASSWORD_FILE, a plain http URL under
        // BRIDGE_REQUIRE_TLS) stop the alerter with the reason, as they stop the loader: no page that quietly lacks its chart.
        let namesSage = environment["SAGE_URL"].map { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } ?? false
        let sage: (any SageChartReader)? = if namesSage, case .webAPI(let connection) = try SageSettings(environment: environment) {
            SageWebAPIClient(connection: connection, logger: logger)
        } else { nil }
        withReviews.mapping = MappingWorkbench(mappingPath: mapping, versions: try MappingVersions(path: mappingVersions), sage: sage,
                                               historyPath: ingestInbox)
        if let rules = fraudRules ?? environment["BRIDGE_FRAUD_RULES"] {
            withReviews.rules = RulesWorkbench(rulesPath: rules, versions: try RulesWorkbench.versions(path: rulesVersions), mappingPath: mapping,
                                               historyPath: ingestInbox, modelPath: environment["BRIDGE_FRAUD_MODEL"])
        }
        let console = OperationsConsole(configuration: withReviews, logger: logger)
        return ConsoleServer(console: console, host: consoleHost, port: resolvedPort) { host, port in
            // A line on stdout, for scripts and tests that start the alerter with port 0.
            FileHandle.standardOutput.write(Data("console listening on http://\(host):\(port)\n".utf8))
        }
    }
}
