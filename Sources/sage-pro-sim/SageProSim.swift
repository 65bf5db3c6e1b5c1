import ArgumentParser
import Foundation
import Logging
import SageSimulator
import SimulatorKit

/// Simulates a Sage 300 Web API company (GL, AR, IC, OE) with a strict ledger and a GL import folder.
@main
struct SageProSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sage-pro-sim", abstract: "Sage 300 Web API simulator (see docs/SIMULATORS.md).")

    @OptionGroup var server: ServerFlags
    @Option(help: "Company id in the URL.") var company = "SAMINC"
    @Option(help: "Basic-auth user (env SAGE_SIM_USER).") var user: String?
    @Option(help: "Basic-auth password (env SAGE_SIM_PASSWORD).") var password: String?
    @Option(help: "First open posting day, YYYY-MM-DD (default: 1 Jan of last year).") var openFrom: String?
    @Option(help: "Last open posting day, YYYY-MM-DD (default: 31 Dec of this year).") var openTo: String?
    @Option(help: "Folder watched for GL import files.") var importDir: String?
    @Flag(help: "Refuse a second GL entry with an external reference already posted (409). Real Sage 300 has no such key, so neither has the default.")
    var uniqueReferences = false

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "sage-pro-sim")
        var options = SageSimulator.Options()
        options.server = try server.settings()
        options.company = company
        let environment = ProcessInfo.processInfo.environment
        options.user = user ?? environment["SAGE_SIM_USER"] ?? "ADMIN"
        options.password = password ?? environment["SAGE_SIM_PASSWORD"] ?? "ADMIN"
        if openFrom != nil || openTo != nil {
            let fallback = FiscalCalendar.OpenRange.defaultRange(now: Date())
            options.openPeriods = .init(from: openFrom ?? fallback.from, to: openTo ?? fallback.to)
        }
        options.importDirectory = importDir
        options.uniqueReferences = uniqueReferences
        let simulator = try SageSimulator(options: options, logger: logger)
        try await SimulatorRunner.runUntilSignalled(server: simulator.server, services: simulator.services, logger: logger)
    }
}
