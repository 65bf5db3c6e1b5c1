import ArgumentParser
import FraudScoring

/// The size of a generated dataset: simulator store days with injected fraud.
struct DatasetOptions: ParsableArguments {
    @Option(help: "Consecutive store days generated.")
    var days: Int = 14

    @Option(help: "Stores per day.")
    var stores: Int = 4

    @Option(name: .customLong("tickets-per-store"), help: "Tickets per store and day.")
    var ticketsPerStore: Int = 300

    @Option(name: .customLong("incidents-per-day"), help: "Injected incidents of each pattern per store day.")
    var incidentsPerDay: Double = 0.5

    func validate() throws {
        guard (1...366).contains(days), (1...99).contains(stores), (1...49_999).contains(ticketsPerStore) else {
            throw ValidationError("--days must be 1...366, --stores 1...99, --tickets-per-store 1...49999")
        }
        guard incidentsPerDay >= 0 else { throw ValidationError("--incidents-per-day must not be negative") }
    }

    func legitimate(seed: UInt64) throws -> [ScoredEvent] {
        try SimulatorTraffic.legitimate(.init(seed: seed, days: days, stores: stores, ticketsPerStore: ticketsPerStore))
    }

    func labelled(seed: UInt64, patterns: [FraudPattern] = FraudPattern.allCases) throws -> [LabelledEvent] {
        FraudInjector(patterns: patterns, incidentsPerStoreDay: incidentsPerDay, seed: seed).inject(into: try legitimate(seed: seed))
    }
}
