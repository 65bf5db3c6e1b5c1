import ArgumentParser
import BridgeSettings
import Foundation
import Testing
import WorkerRuntime

/// The options every worker takes: a flag not given takes its default from the environment through `EnvironmentReader`
/// (the same variables as before, trimmed, blank is unset), a flag given wins over the variable, and a malformed variable
/// is refused with an error that names it instead of falling back to the default.
@Suite struct WorkerOptionsTests {
    static func parse(_ arguments: [String], _ environment: [String: String]) throws -> WorkerOptions {
        try EnvironmentReader.$current.withValue(EnvironmentReader(environment)) { try WorkerOptions.parse(arguments) }
    }

    /// The error text a refused parse prints, nil when it parsed.
    static func refusal(_ arguments: [String], _ environment: [String: String]) -> String? {
        do { _ = try parse(arguments, environment) } catch { return WorkerOptions.message(for: error) }
        return nil
    }

    static let everyVariable = [
        "BRIDGE_PREFETCH": " 16\n", "BRIDGE_CONCURRENCY": "3", "BRIDGE_PAUSE_SECONDS": "0.5", "BRIDGE_RETRY_BUDGET_SECONDS": "90",
        "BRIDGE_HTTP_PORT": "9191", "BRIDGE_HTTP_HOST": "0.0.0.0", "BRIDGE_LOG_LEVEL": "WARNING", "BRIDGE_AMQP_NODE_ORDER": "listed",
    ]

    @Test func withNeitherFlagNorVariableEachOptionHasItsDefault() throws {
        let options = try Self.parse([], [:])
        #expect(options.prefetch == 200)
        #expect(options.concurrency == 8)
        #expect(options.pauseSeconds == 2)
        #expect(options.retryBudgetSeconds == nil)
        #expect(options.resolvedHTTPPort == 0)
        #expect(options.httpHost == "127.0.0.1")
        #expect(options.level == .info)
        #expect(options.amqpNodeOrder == "random")
    }

    @Test func aVariableBecomesTheDefault() throws {
        let options = try Self.parse([], Self.everyVariable)
        #expect(options.prefetch == 16, "trimmed, as every value EnvironmentReader reads")
        #expect(options.concurrency == 3)
        #expect(options.pauseSeconds == 0.5)
        #expect(options.retryBudgetSeconds == 90)
        #expect(options.resolvedHTTPPort == 9191)
        #expect(options.httpHost == "0.0.0.0")
        #expect(options.level == .warning, "in any case, as before")
        #expect(options.amqpNodeOrder == "listed")
    }

    @Test func aFlagWinsOverTheVariable() throws {
        let options = try Self.parse([
            "--prefetch", "5", "--concurrency", "2", "--pause-seconds", "7", "--retry-budget-seconds", "30", "--http-port", "8181",
            "--http-host", "10.0.0.1", "--log-level", "error", "--amqp-node-order", "random",
        ], Self.everyVariable)
        #expect(options.prefetch == 5)
        #expect(options.concurrency == 2)
        #expect(options.pauseSeconds == 7)
        #expect(options.retryBudgetSeconds == 30)
        #expect(options.resolvedHTTPPort == 8181)
        #expect(options.httpHost == "10.0.0.1")
        #expect(options.level == .error)
        #expect(options.amqpNodeOrder == "random")
    }

    @Test func aMalformedVariableIsRefusedWithItsName() {
        let cases = [
            ("BRIDGE_PREFETCH", "many", "BRIDGE_PREFETCH must be a whole number in 1…65535, not 'many'"),
            ("BRIDGE_PREFETCH", "0", "BRIDGE_PREFETCH must be a whole number in 1…65535, not '0'"),
            ("BRIDGE_CONCURRENCY", "0", "BRIDGE_CONCURRENCY must be a whole number of at least 1, not '0'"),
            ("BRIDGE_PAUSE_SECONDS", "-1", "BRIDGE_PAUSE_SECONDS must be a number of seconds greater than 0, not '-1'"),
            ("BRIDGE_RETRY_BUDGET_SECONDS", "soon", "BRIDGE_RETRY_BUDGET_SECONDS must be a number of seconds greater than 0, not 'soon'"),
            ("BRIDGE_HTTP_PORT", "70000", "BRIDGE_HTTP_PORT must be a whole number in 0…65535, not '70000'"),
            ("BRIDGE_LOG_LEVEL", "loud", "BRIDGE_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical, not 'loud'"),
            ("BRIDGE_AMQP_NODE_ORDER", "first", "BRIDGE_AMQP_NODE_ORDER must be one of random, listed, not 'first'"),
        ]
        for (name, value, expected) in cases {
            let message = Self.refusal([], [name: value])
            #expect(message?.contains(expected) == true, "\(name)=\(value): \(message ?? "accepted")")
        }
    }

    @Test func aFlagGivenIsNotHeldBackByAMalformedVariable() throws {
        #expect(try Self.parse(["--prefetch", "5"], ["BRIDGE_PREFETCH": "many"]).prefetch == 5)
        #expect(try Self.parse(["--log-level", "debug"], ["BRIDGE_LOG_LEVEL": "loud"]).level == .debug)
    }

    @Test func aMalformedFlagIsRefusedWithItsName() {
        #expect(Self.refusal(["--prefetch", "0"], [:])?.contains("--prefetch must be between 1 and 65535, not 0") == true)
        #expect(Self.refusal(["--log-level", "loud"], [:])?.contains("--log-level must be one of trace, debug") == true)
        #expect(Self.refusal(["--amqp-node-order", "first"], [:])?.contains("--amqp-node-order must be random or listed, not first") == true)
        #expect(Self.refusal(["--pause-seconds", "0"], [:])?.contains("--pause-seconds must be positive") == true)
    }

    /// The spill folder (large deliveries waiting for their turn) from the flag, else the variable; one that is not a
    /// folder is refused at start-up, not found out when the first batch event arrives.
    @Test func theSpillFolderMustBeAFolder() throws {
        let folder = FileManager.default.temporaryDirectory.path
        #expect(try Self.parse([], ["BRIDGE_SPILL_DIR": folder]).spillDirectory == folder)
        #expect(try Self.parse(["--spill-dir", folder], ["BRIDGE_SPILL_DIR": "/elsewhere"]).spillDirectory == folder)
        #expect(try Self.parse([], [:]).spillDirectory == nil, "unset: the runner's default ($TMPDIR, else /tmp)")
        #expect(Self.refusal(["--spill-dir", "/nonexistent/spill"], [:])?.contains("/nonexistent/spill is not a directory") == true)
        #expect(Self.refusal([], ["BRIDGE_SPILL_DIR": "/etc/hostname"])?.contains("BRIDGE_SPILL_DIR: /etc/hostname is not a directory") == true)
    }

    /// How long a rest before the worker gives back the memory it kept for speed: 5 s unless told; 0 is never.
    @Test func theMemoryRestIsFiveSecondsUnlessToldAndZeroIsNever() throws {
        #expect(try Self.parse([], [:]).memoryRest == .seconds(5))
        #expect(try Self.parse([], ["BRIDGE_MEMORY_REST_SECONDS": "0.5"]).memoryRest == .milliseconds(500))
        #expect(try Self.parse(["--memory-rest-seconds", "30"], ["BRIDGE_MEMORY_REST_SECONDS": "0.5"]).memoryRest == .seconds(30))
        #expect(try Self.parse([], ["BRIDGE_MEMORY_REST_SECONDS": "0"]).memoryRest == nil)
        #expect(try Self.parse(["--memory-rest-seconds", "0"], [:]).memoryRest == nil)
        #expect(Self.refusal([], ["BRIDGE_MEMORY_REST_SECONDS": "-1"])?
            .contains("BRIDGE_MEMORY_REST_SECONDS must be a number of seconds of at least 0, not '-1'") == true)
        #expect(Self.refusal(["--memory-rest-seconds=-1"], [:])?.contains("--memory-rest-seconds must be 0 or more") == true)
    }

    @Test func theBrokerURLComesFromTheFlagOrTheVariable() throws {
        /// The hosts `brokerURLs()` gives after parsing `arguments` with `environment`.
        func hosts(_ arguments: [String], _ environment: [String: String]) throws -> [String] {
            try EnvironmentReader.$current.withValue(EnvironmentReader(environment)) { () throws -> [String] in
                try WorkerOptions.parse(arguments).brokerURLs().map(\.host)
            }
        }
        let variable = ["BRIDGE_AMQP_URL": " amqp://u:p@from-variable:5672/ \n"]
        #expect(try hosts([], variable) == ["from-variable"])
        #expect(try hosts(["--amqp-url", "amqp://u:p@from-flag:5672/"], variable) == ["from-flag"])
        #expect(throws: ValidationError.self) { try hosts([], [:]) }
    }
}
