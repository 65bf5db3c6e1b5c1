import ArgumentParser
import FraudScoring

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a labelled history (JSON Lines): simulator store days with injected fraud patterns.")

    @Option(help: "Seed of the legitimate traffic and of the injected fraud.")
    var seed: UInt64 = 1

    @Option(help: "Output file.")
    var out: String

    @OptionGroup var dataset: DatasetOptions

    func run() throws {
        let events = try dataset.labelled(seed: seed)
        try HistoryFile.write(events, path: out)
        print("wrote \(events.count) events (\(events.filter { $0.fraud != nil }.count) fraud) to \(out)")
    }
}
