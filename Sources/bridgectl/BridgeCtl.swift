import ArgumentParser

@main
struct BridgeCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridgectl",
        abstract: "Operate the Heartland ⇄ Sage bridge: topology, queue status, dead letters, reports.",
        subcommands: [TopologyCommand.self, StatusCommand.self, DLQCommand.self, ReportCommand.self, SageCommand.self, ReviewCommand.self, TraceCommand.self,
                      QuarantineCommand.self, RefundsCommand.self, ConsoleCommand.self, MappingCommand.self, RulesCommand.self])
}
