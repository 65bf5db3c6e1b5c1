import ArgumentParser
import BridgeClock
import Foundation
import HeartlandSimulator
import Logging
import SimulatorKit

/// Simulates Heartland at the HTTP boundary: GP-API card side, Heartland Retail POS, payroll runs.
@main
struct HeartlandSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heartland-sim", abstract: "Heartland simulator (see docs/SIMULATORS.md).",
        subcommands: [Serve.self, Generate.self, LastDay.self], defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the Heartland APIs.")

    @OptionGroup var server: ServerFlags
    @Option(help: "GP-API app id (env HEARTLAND_SIM_APP_ID).") var appId: String?
    @Option(help: "GP-API app key (env HEARTLAND_SIM_APP_KEY).") var appKey: String?
    @Option(help: "Static Heartland Retail API token (repeatable; env HEARTLAND_SIM_RETAIL_TOKEN).") var retailToken: [String] = []
    @Option(help: "Secret for X-Heartland-Signature (env HEARTLAND_SIM_WEBHOOK_SECRET; default sim-webhook-secret, never the app key).") var webhookSecret: String?
    @Option(help: "Webhook endpoint (repeatable).") var webhookUrl: [String] = []
    @Option(help: "Share of delivered webhooks sent twice.") var webhookDuplicateRate = 0.02
    @Option(help: "First webhook retry delay in milliseconds (doubles per attempt).") var webhookRetryMs = 1000
    @Option(help: "Fixture JSON to load at start.") var fixture: String?

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "heartland-sim")
        let environment = ProcessInfo.processInfo.environment
        var options = HeartlandSimulator.Options()
        options.server = try server.settings()
        let tokens = retailToken + (environment["HEARTLAND_SIM_RETAIL_TOKEN"].map { [$0] } ?? [])
        options.credentials = HeartlandCredentials(
            appId: appId ?? environment["HEARTLAND_SIM_APP_ID"] ?? "sim-app-id",
            appKey: appKey ?? environment["HEARTLAND_SIM_APP_KEY"] ?? "sim-app-key",
            retailTokens: Set(tokens.isEmpty ? ["sim-retail-token"] : tokens),
            webhookSecret: webhookSecret ?? environment["HEARTLAND_SIM_WEBHOOK_SECRET"] ?? HeartlandCredentials.defaultWebhookSecret)
        options.webhookURLs = webhookUrl
        options.webhookPolicy.duplicateRate = webhookDuplicateRate
        options.webhookPolicy.baseDelay = .milliseconds(webhookRetryMs)
        if let fixture {
            options.fixture = try StoreDayFixture.decode(try Data(contentsOf: URL(fileURLWithPath: fixture)))
        }
        let simulator = try HeartlandSimulator(options: options, logger: logger)
        try await SimulatorRunner.runUntilSignalled(server: simulator.server, services: simulator.services, logger: logger)
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a deterministic store day into --db and/or a fixture file.")

    @Option(help: "Number of stores (1...99).") var stores = 2
    @Option(help: "Business day, YYYY-MM-DD. Default: the last day already over at every generated store (see last-day).") var day: String?
    @Option(help: "Now, when --day is omitted: an instant or an offset in seconds. Default: $BRIDGE_CLOCK or the system clock.") var clock: String?
    @Option(help: "Seed; the same seed gives the same data.") var seed: UInt64 = 1
    @Option(help: "Sales tickets per store (returns come on top, about 4 %).") var ticketsPerStore = 300
    @Option(help: "Batches closed during each store's day, 1...4; above 1 the day is messy (see docs/heartland-sim-fixtures.md).") var batchesPerDay = 1
    @Option(help: "Share of defective documents, 0...5 %; above 0 the day is messy.") var badPercent = 0
    @Option(help: "SQLite file to load the day into.") var db: String?
    @Option(help: "Write the day as a fixture JSON file.") var out: String?

    func run() throws {
        let fixture = try StoreDayGenerator.generate(
            .init(stores: stores, day: try day ?? LastDay.day(stores: stores, clock: clock), seed: seed, ticketsPerStore: ticketsPerStore,
                batchesPerDay: batchesPerDay, badPercent: badPercent))
        if let out { try fixture.encoded().write(to: URL(fileURLWithPath: out)) }
        if let db { _ = try HeartlandDatabase.open(path: db, seed: fixture.save) }
        if db == nil && out == nil { FileHandle.standardOutput.write(try fixture.encoded()) } else { print(fixture.summary.text) }
    }
}

/// Prints the business day a generated day should have so that tickets rung up now never fall in it.
struct LastDay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "last-day",
        abstract: "Print the last business day that is over at every one of N generated stores (YYYY-MM-DD).",
        discussion: "At 02:00 UTC US stores are still on the previous calendar day, so this is two days before the UTC date; at 15:00 UTC, one.")

    @Option(help: "Number of stores (their time zones decide).") var stores = 2
    @Option(help: "Now: an instant (2026-12-02T07:30:00Z) or an offset in seconds. Default: $BRIDGE_CLOCK or the system clock.") var clock: String?

    static func day(stores: Int, clock: String?) throws -> String {
        StoreDayGenerator.lastFinishedDay(stores: stores, at: try BridgeClock.resolve(flag: clock).now())
    }

    func run() throws { print(try Self.day(stores: stores, clock: clock)) }
}
