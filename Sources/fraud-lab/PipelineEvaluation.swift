import ArgumentParser
import FraudScoring
import Foundation
import HeartlandSimulator
import PipelineContracts

/// `fraud-lab pipeline …`: the evaluation through the running pipeline (docs/FRAUD.md, "Evaluation through the
/// pipeline"). `scripts/evaluate-fraud-pipeline` runs the three steps around the real processes: `prepare` writes the
/// labelled day into heartland-sim's database, `scored` says whether the scorer has seen everything it should, `report`
/// reads what the pipeline flagged from the scorer's own files and sets it against the labels.
struct Pipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the running pipeline on a generated day with injected fraud (scripts/evaluate-fraud-pipeline).",
        subcommands: [Prepare.self, Scored.self, Report.self])

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a store day with injected fraud into a heartland-sim database; write its labels and what must be scored.")

        @Option(help: "Seed of the day and of the injected fraud (use one other than the training seed, 1).") var seed: UInt64 = 7
        @Option(help: "Business day, YYYY-MM-DD (heartland-sim last-day gives one over at every store).") var day: String
        @Option(help: "Stores.") var stores = 3
        @Option(name: .customLong("tickets-per-store"), help: "Tickets per store.") var ticketsPerStore = 300
        @Option(name: .customLong("incidents-per-day"), help: "Injected incidents of each pattern per store.") var incidentsPerDay = 1.0
        @Option(help: "heartland-sim SQLite file to write the day into (as `heartland-sim generate --db`).") var db: String
        @Option(help: "Labels of the injected events, JSON Lines (LabelledEvent, pipeline ids).") var labels: String
        @Option(help: "What the pipeline must score (JSON).") var expected: String

        func run() throws {
            let prepared = try PipelineDay.build(seed: seed, day: day, stores: stores, ticketsPerStore: ticketsPerStore,
                                                 incidentsPerStoreDay: incidentsPerDay)
            _ = try HeartlandDatabase.open(path: db, seed: prepared.fixture.save)
            try HistoryFile.write(prepared.labels, path: labels)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(prepared.expected).write(to: URL(fileURLWithPath: expected))
            var patterns: [String: Int] = [:]
            for label in prepared.labels { if let fraud = label.fraud { patterns[fraud.rawValue, default: 0] += 1 } }
            print("day \(day), seed \(seed): \(stores) stores × \(ticketsPerStore) tickets, \(prepared.fixture.tickets.count) tickets and "
                  + "\(prepared.fixture.transactions.count) transactions in all; injected \(prepared.labels.count) events "
                  + "(\(patterns.values.reduce(0, +)) fraud: \(patterns.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))); "
                  + "\(prepared.expected.scored.count) events to be scored")
        }
    }

    struct Scored: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 when the scorer's feature store holds every event `prepare` said it must score, else 1 (prints how many are missing).")

        @Option(help: "The file `prepare --expected` wrote.") var expected: String
        @Option(name: .customLong("feature-store"), help: "The fraud-scorer's feature store.") var featureStore: String

        func run() async throws {
            let wanted = try JSONDecoder().decode(PipelineDay.Expected.self, from: Data(contentsOf: URL(fileURLWithPath: expected))).scored
            let recorded = FileManager.default.fileExists(atPath: featureStore) ? try await FeatureStore(path: featureStore).recordedKinds() : [:]
            let missing = wanted.filter { recorded[$0] == nil }
            guard missing.isEmpty else {
                print("\(missing.count) of \(wanted.count) not scored yet, e.g. \(missing.prefix(5).joined(separator: ", "))")
                throw ExitCode(1)
            }
            print("all \(wanted.count) scored")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What the pipeline flagged (exceptions, held refunds, blocked sales and refunds) against the labels, per pattern.")

        @Option(help: "The labels `prepare` wrote.") var labels: String
        @Option(help: "The file `prepare --expected` wrote.") var expected: String
        @Option(name: .customLong("review-store"), help: "The fraud-scorer's review store (exceptions and held documents).") var reviewStore: String
        @Option(name: .customLong("feature-store"), help: "The fraud-scorer's feature store (every event it scored).") var featureStore: String
        @Option(name: .customLong("blocked-refund"), help: "The reference of a refund the scorer blocked (alert refund_blocked), repeatable.")
        var blockedRefunds: [String] = []
        @Option(name: .customLong("show-missed"), help: "Print this many labelled fraud events the pipeline did not flag.") var showMissed = 0
        @Option(name: .customLong("show-false-positives"), help: "Print this many flagged clean events, with reasons.") var showFalsePositives = 0

        func run() async throws {
            let expected = try JSONDecoder().decode(PipelineDay.Expected.self, from: Data(contentsOf: URL(fileURLWithPath: expected)))
            let flags = try await PipelineFlags.read(reviews: ReviewStore(path: reviewStore), blockedRefunds: blockedRefunds, expected: expected)
            let report = PipelineReport(labels: try HistoryFile.read(path: labels), scored: try await FeatureStore(path: featureStore).recordedKinds(),
                                        flags: flags)
            print(report.text(showMissed: showMissed, showFalsePositives: showFalsePositives))
        }
    }
}

/// What the pipeline flagged, per scored event id, with where it was recorded and the reasons it gave.
struct PipelineFlags {
    struct Flag {
        var sources: Set<String> = []
        var reasons: [String] = []
        /// A flag record without a reason (every flag should say why).
        var unexplained = 0
    }

    var byEvent: [String: Flag] = [:]
    /// Settlement journals held whole (a blocked sale, or the batch-level check).
    var heldBatches = 0
    /// Flag records read (exceptions, held refunds, blocked sales, blocked refunds) and those without reasons.
    var records = 0
    var recordsWithoutReasons = 0

    mutating func add(_ id: String, source: String, reasons: [String]) {
        records += 1
        if reasons.isEmpty { recordsWithoutReasons += 1 }
        byEvent[id, default: Flag()].sources.insert(source)
        byEvent[id, default: Flag()].reasons += reasons
        if reasons.isEmpty { byEvent[id, default: Flag()].unexplained += 1 }
    }

    static func read(reviews: ReviewStore, blockedRefunds: [String], expected: PipelineDay.Expected) async throws -> PipelineFlags {
        var flags = PipelineFlags()
        for exception in try await reviews.exceptions() {
            flags.add(exception.transactionId, source: exception.key.hasPrefix("gateway:") ? "feed exception" : "batch exception",
                      reasons: exception.reasons)
        }
        for held in try await reviews.list() {
            let document = try JSONDecoder().decode(JournalDocument.self, from: held.document)
            if let refund = document.refund {
                flags.add(refund.transactionId, source: "held refund", reasons: held.reasons)
                continue
            }
            flags.heldBatches += 1
            // A blocked sale's reason starts with the sale: `sale TRN_1 $612.50 on … blocked by line 3: …`.
            for reason in held.reasons where reason.hasPrefix("sale ") && reason.contains(" blocked by ") {
                let id = reason.dropFirst(5).prefix { $0 != " " }
                flags.add(String(id), source: "blocked sale", reasons: [reason])
            }
        }
        for reference in blockedRefunds {
            // `HL-S01-20261201-R<return ticket>`
            guard let marker = reference.range(of: "-R", options: .backwards),
                  let id = expected.refundOfReturnTicket[String(reference[marker.upperBound...])] else { continue }
            flags.add(id, source: "blocked refund", reasons: ["refund_blocked alert on \(reference)"])
        }
        return flags
    }
}

/// The per-pattern table: labelled fraud events against what was flagged; precision and false-positive rate against
/// the clean events the pipeline scored (every event in the feature store that is not an injected one).
struct PipelineReport {
    let labels: [LabelledEvent]
    let scored: [String: ScoredEvent.Kind]
    let flags: PipelineFlags

    /// The issue's target: at least 90 % recall per pattern at no more than 1 % false positives.
    static let targetRecall = 0.9, targetFalsePositiveRate = 0.01

    struct Row {
        var name: String
        var counts = ClassificationCounts()
        var notScored = 0
        var incidents: [String: Bool] = [:]
    }

    var injectedIDs: Set<String> { Set(labels.map(\.event.id)) }
    var clean: [String] { scored.keys.filter { !injectedIDs.contains($0) }.sorted() }

    func isFlagged(_ id: String) -> Bool { flags.byEvent[id] != nil }

    func rows() -> [Row] {
        let clean = clean
        let falsePositives = clean.filter(isFlagged).count
        func row(_ name: String, _ fraud: [LabelledEvent]) -> Row {
            var row = Row(name: name)
            for labelled in fraud {
                let flagged = isFlagged(labelled.event.id)
                row.counts.add(flagged: flagged, fraud: true)
                if scored[labelled.event.id] == nil { row.notScored += 1 }
                if let incident = labelled.incident { row.incidents[incident] = (row.incidents[incident] ?? false) || flagged }
            }
            row.counts.falsePositives = falsePositives
            row.counts.trueNegatives = clean.count - falsePositives
            return row
        }
        let fraud = labels.filter { $0.fraud != nil }
        return FraudPattern.allCases.map { pattern in row(pattern.rawValue, fraud.filter { $0.fraud == pattern }) }
            + [row("all patterns together", fraud)]
    }

    static func percent(_ value: Double, digits: Int = 1) -> String { String(format: "%.\(digits)f %%", value * 100) }

    func table() -> String {
        var lines = ["| pattern | labelled | flagged | recall | precision | clean scored | false pos. | FPR | incidents caught |",
                     "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows() {
            let c = row.counts
            lines.append("| \(row.name) | \(c.positives) | \(c.truePositives) | \(Self.percent(c.recall)) | \(Self.percent(c.precision)) | "
                         + "\(c.negatives) | \(c.falsePositives) | \(Self.percent(c.falsePositiveRate, digits: 2)) | "
                         + "\(row.incidents.values.filter { $0 }.count)/\(row.incidents.count) |")
        }
        return lines.joined(separator: "\n")
    }

    func text(showMissed: Int, showFalsePositives: Int) -> String {
        let rows = rows()
        var out = [table(), ""]
        let fraud = labels.filter { $0.fraud != nil }
        let notScored = fraud.filter { scored[$0.event.id] == nil }
        out.append("scored by the pipeline: \(scored.count) events (\(fraud.count - notScored.count) labelled fraud, "
                   + "\(labels.count - fraud.count) injected scenery, \(clean.count) clean); labelled fraud never scored: \(notScored.count)")
        var sources: [String: Int] = [:]
        for flag in flags.byEvent.values { for source in flag.sources { sources[source, default: 0] += 1 } }
        out.append("flagged: \(flags.byEvent.count) events (" + sources.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                   + "); settlement journals held whole: \(flags.heldBatches)")
        out.append("every flag carries reasons: \(flags.recordsWithoutReasons == 0 ? "yes" : "no") (\(flags.records - flags.recordsWithoutReasons) "
                   + "of \(flags.records) flag records)")
        var cleanKinds: [String: Int] = [:]
        for id in clean where isFlagged(id) { cleanKinds[scored[id]!.rawValue, default: 0] += 1 }
        out.append("false positives by kind: " + (cleanKinds.isEmpty ? "none" : cleanKinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")))
        let misses = rows.dropLast().filter { $0.counts.positives > 0 && $0.counts.recall < Self.targetRecall }.map(\.name)
        let all = rows.last!.counts
        let empty = rows.dropLast().filter { $0.counts.positives == 0 }.map(\.name)
        var verdict = "target (≥ 90 % recall per pattern at ≤ 1 % FPR): "
        if misses.isEmpty && all.falsePositiveRate <= Self.targetFalsePositiveRate {
            verdict += "met"
        } else {
            verdict += "missed (" + (misses.isEmpty ? [] : ["recall below 90 %: " + misses.joined(separator: ", ")])
                .joined(separator: "; ")
            if all.falsePositiveRate > Self.targetFalsePositiveRate { verdict += (misses.isEmpty ? "" : "; ") + "FPR \(Self.percent(all.falsePositiveRate, digits: 2))" }
            verdict += ")"
        }
        if !empty.isEmpty { verdict += "; not injected in this run: " + empty.joined(separator: ", ") }
        out.append(verdict)
        let missed = fraud.filter { !isFlagged($0.event.id) }
        for labelled in missed.prefix(showMissed) {
            let event = labelled.event
            out.append("missed \(labelled.fraud!.rawValue) \(event.id) \(event.kind.rawValue) \(event.amountCents)c \(event.entryMode.rawValue) "
                       + (scored[event.id] == nil ? "(never scored)" : "(scored, allowed)"))
        }
        for id in clean.filter(isFlagged).prefix(showFalsePositives) {
            let flag = flags.byEvent[id]!
            out.append("false positive \(id) \(scored[id]!.rawValue) [\(flag.sources.sorted().joined(separator: ", "))]: "
                       + flag.reasons.joined(separator: "; "))
        }
        return out.joined(separator: "\n")
    }
}
