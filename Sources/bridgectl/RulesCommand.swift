import ArgumentParser
import BridgeSettings
import Foundation
import MappingEditor

/// `bridgectl rules`: the console's fraud rules page from the command line (docs/MAPPING.md, "The fraud rules").
struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "The fraud rules: backtest a rule file on the last days' card sales beside the rules in force.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Parse a rule file and backtest it as the rules page does before a save: what each rule matched and each action decided on the card sales of the closed batches of the last N days, beside the rules in force. Exit 1 when it does not parse.",
            discussion: "The sales are heartland-ingest's kept batches built by the transformer's code with the mapping in force, replayed through a fresh feature store; real-time refunds and gateway-feed events are not replayed.")
        @Option(help: "The rule file in force (the fraud-scorer's). Default: $BRIDGE_FRAUD_RULES.")
        var rules: String?
        @Option(help: "The model that gives :risk_score: (the fraud-scorer's). Default: $BRIDGE_FRAUD_MODEL; none: every score 0.")
        var model: String?
        @Option(help: "The mapping the batches are built with. Default: $BRIDGE_MAPPING or Config/mapping.yaml.")
        var mapping: String = EnvironmentReader.current.value("BRIDGE_MAPPING") ?? "Config/mapping.yaml"
        @Option(help: "heartland-ingest's inbox, read-only. Default: $BRIDGE_INGEST_INBOX or var/heartland-ingest.sqlite.")
        var ingestInbox: String = EnvironmentReader.current.value("BRIDGE_INGEST_INBOX") ?? "var/heartland-ingest.sqlite"
        @Option(help: "The last days backtested (1 to 120).") var days = 30
        @Argument(help: "The rule file to check. Default: the rules in force.") var file: String?
        @Flag(help: "Print the check as JSON.") var json = false

        func validate() throws {
            guard (1...120).contains(days) else { throw ValidationError("--days must be 1 to 120, not \(days)") }
        }

        func run() async throws {
            guard let rules = rules ?? EnvironmentReader.current.value("BRIDGE_FRAUD_RULES") ?? file else {
                throw ValidationError("name the rule file in force (--rules or BRIDGE_FRAUD_RULES) or a file to check")
            }
            let path = file ?? rules
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("\(path) cannot be read") }
            guard FileManager.default.fileExists(atPath: ingestInbox) else {
                throw ValidationError("no kept batches to backtest on: \(ingestInbox) does not exist (--ingest-inbox, heartland-ingest's inbox)")
            }
            let workbench = RulesWorkbench(rulesPath: rules, versions: nil, mappingPath: mapping, historyPath: ingestInbox,
                                           modelPath: model ?? EnvironmentReader.current.value("BRIDGE_FRAUD_MODEL"))
            let check = try await workbench.check(text, days: days)
            if json { Swift.print(try Output.json(check)) } else { Self.print(check, file: path, inForce: rules) }
            if !check.passed { throw ExitCode(1) }
        }

        static func print(_ check: RulesCheck, file: String, inForce: String) {
            if let error = check.syntaxError {
                Swift.print("\(file) does not parse: \(error)")
                return
            }
            Swift.print("backtested on \(check.events) card sale(s) of \(check.batches) closed batch(es) of the last \(check.days) day(s)")
            Swift.print(Output.table(["action", "in force (\(inForce))", "checked (\(file))"],
                                     check.actions.map { [$0.action, "\($0.inForce)", "\($0.candidate)"] }))
            Swift.print("")
            Swift.print(Output.table(["rule of \(file)", "matched"], check.candidateRules.map { [$0.label, "\($0.matched)"] }))
        }
    }
}
