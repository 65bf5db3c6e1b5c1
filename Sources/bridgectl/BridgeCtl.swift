import ArgumentParser

@main
struct BridgeCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridgectl",
        abstract: "Operate the Heartland ⇄ Sage bridge: topology, queue status, dead letters.",
        subcommands: [TopologyCommand.self, StatusCommand.self, DLQCommand.self])
}
