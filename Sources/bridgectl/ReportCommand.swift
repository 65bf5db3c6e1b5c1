import Accounting
import Alerter
import ArgumentParser
import BridgeSettings
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Reports from the alerter's operations store.", subcommands: [Reconciliation.self])

    struct Reconciliation: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Heartland's batch totals against what Sage holds, per account and per brand.")
        enum Format: String, ExpressibleByArgument { case table, csv, json }

        @Option(help: "Business day, YYYY-MM-DD (default: every day in the store).") var date: String?
        @Option(help: "table, csv or json.") var format: Format = .table
        @Flag(help: "Print JSON (the same as --format json).") var json = false
        @Option(help: "Operations store. Default: $BRIDGE_OPERATIONS_DB or var/operations.sqlite.")
        var store: String = EnvironmentReader.current.value("BRIDGE_OPERATIONS_DB") ?? "var/operations.sqlite"

        func validate() throws {
            if json && format == .csv { throw ValidationError("--json and --format csv contradict each other: choose one") }
        }

        func run() async throws {
            guard FileManager.default.fileExists(atPath: store) else {
                throw ValidationError("no operations store at \(store): is the alerter running, or pass --store")
            }
            let reports = try await OperationsStore(path: store).reconciliations(businessDate: date)
            switch json ? .json : format {
            case .table: print(reports.isEmpty ? "no reconciliation reports\(date.map { " for \($0)" } ?? "")" : ReconciliationReport.table(reports))
            case .csv: print(ReconciliationReport.csv(reports), terminator: "")
            case .json: print(try ReconciliationReport.json(reports))
            }
        }
    }
}
