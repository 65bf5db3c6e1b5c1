import Accounting
import Foundation
import PipelineContracts
import SageConnector
import Transformer

/// A posted store day's journal as a mapping would build it, next to what Sage holds under the same reference, line
/// by line. Lines are paired by their description and side (the builder's lines are summed per account, rule, side
/// and description, so a changed account keeps its description); what has no partner is shown alone.
public struct JournalPreview: Codable, Sendable, Equatable {
    public struct Line: Codable, Sendable, Equatable {
        public var account: String
        public var accountName: String
        public var description: String
        /// Debit positive, credit negative (Sage's signed amount).
        public var cents: Int64
    }

    public struct Row: Codable, Sendable, Equatable {
        public enum Status: String, Codable, Sendable {
            case same
            case accountChanged = "account changed"
            case amountDiffers = "amount differs"
            case onlyProposed = "only in the preview"
            case onlyInSage = "only in Sage"
        }

        public var description: String
        public var proposed: Line?
        public var sage: Line?
        public var status: Status
    }

    public var reference: String
    public var store: String
    public var businessDate: String
    public var batchId: String?
    /// Sage's batch holding the reference, nil when Sage holds nothing under it (not posted yet).
    public var sageBatch: String?
    public var rows: [Row]

    public var differences: Int { rows.filter { $0.status != .same }.count }

    /// The journals `rules` builds from a closed batch, each beside Sage's entry of the same reference.
    public static func previews(of event: BatchClosedEvent, rules: MappingRules, chart: [SageGLAccount],
                                posted: (String) async throws -> [SagePostedJournal]) async throws -> [JournalPreview] {
        let names = Dictionary(chart.map { ($0.accountNumber, $0.description) }, uniquingKeysWith: { first, _ in first })
        func name(_ account: String) -> String { names[account] ?? rules.name(of: AccountNumber(account)) }
        var previews: [JournalPreview] = []
        for document in try TransformerHandler(rules: rules).settlement(batch: event).documents {
            let journal = document.journal
            let proposed = journal.lines.map {
                Line(account: $0.account.rawValue, accountName: name($0.account.rawValue), description: $0.description, cents: $0.signedCents)
            }
            let held = try await posted(journal.reference)
            let entry = held.first.flatMap { $0.entry(reference: journal.reference) }
            let sage = entry?.lines.map { Line(account: $0.account, accountName: name($0.account), description: $0.description, cents: $0.amountCents) } ?? []
            previews.append(JournalPreview(reference: journal.reference, store: event.store.id, businessDate: journal.postingDate.iso,
                                           batchId: event.batchId, sageBatch: held.first.map { "\($0.batchNumber)" },
                                           rows: pair(proposed, sage)))
        }
        return previews
    }

    /// Pairs lines of the same description and side, in order; the rest stand alone.
    static func pair(_ proposed: [Line], _ sage: [Line]) -> [Row] {
        func key(_ line: Line) -> String { "\(line.description)|\(line.cents >= 0 ? "D" : "C")" }
        var waiting = Dictionary(grouping: sage.indices, by: { key(sage[$0]) })
        var used = Set<Int>()
        var rows: [Row] = []
        for line in proposed {
            if let index = waiting[key(line)]?.first {
                waiting[key(line)]?.removeFirst()
                used.insert(index)
                let other = sage[index]
                let status: Row.Status = other.account != line.account ? .accountChanged : other.cents != line.cents ? .amountDiffers : .same
                rows.append(Row(description: line.description, proposed: line, sage: other, status: status))
            } else {
                rows.append(Row(description: line.description, proposed: line, sage: nil, status: .onlyProposed))
            }
        }
        for index in sage.indices where !used.contains(index) {
            rows.append(Row(description: sage[index].description, proposed: nil, sage: sage[index], status: .onlyInSage))
        }
        return rows
    }
}
