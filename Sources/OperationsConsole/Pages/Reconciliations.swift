import Accounting
import Foundation
import PipelineContracts

/// Reconciliation reports per business day and batch; the JSON of one report is the report itself.
struct ReconciliationDay: Encodable, Sendable {
    struct Summary: Encodable, Sendable {
        var reference, storeId, status: String
        var batchId, reason: String?
        var differences: Int
    }

    var date: String
    var matched, mismatched, incomplete: Int
    var reports: [Summary]
}

extension OperationsConsole {
    func reconciliationDays(date: String?) async throws -> [ReconciliationDay] {
        let reports = try await configuration.operations.reconciliations(businessDate: date.flatMap { $0.isEmpty ? nil : $0 })
        let days = Dictionary(grouping: reports, by: { $0.businessDate.iso })
        return days.keys.sorted(by: >).map { day in
            let reports = days[day] ?? []
            return ReconciliationDay(
                date: day, matched: reports.filter { $0.status == .matched }.count, mismatched: reports.filter { $0.status == .mismatched }.count,
                incomplete: reports.filter { $0.status == .incomplete }.count,
                reports: reports.map {
                    .init(reference: $0.reference, storeId: $0.storeID.rawValue, status: $0.status.rawValue, batchId: $0.batchID?.rawValue,
                          reason: $0.reason, differences: $0.differences.count + $0.receivableDifferences.count)
                })
        }
    }

    func reconciliation(reference: String) async throws -> ReconciliationReport {
        guard let report = try await configuration.operations.reconciliations().first(where: { $0.reference == reference }) else {
            throw ConsoleError.notFound("no reconciliation report for \(reference)")
        }
        return report
    }
}

/// A set-aside document as the console lists it.
struct QuarantineRow: Encodable, Sendable {
    var status, store, documentId, field, reason, quarantinedAt: String
    var number, batchId, postedAs: String?
    var netByAccount: [String: Int64]?
}

extension OperationsConsole {
    func quarantine(all: Bool) async throws -> [QuarantineRow] {
        try await configuration.operations.quarantined(status: all ? nil : .held).compactMap { entry in
            guard let document = try? JSONDecoder().decode(QuarantinedDocument.self, from: Data(entry.document.json.utf8)) else { return nil }
            return QuarantineRow(status: entry.status.rawValue, store: document.store.id, documentId: document.documentId, field: document.field,
                                 reason: document.reason, quarantinedAt: document.quarantinedAt, number: document.number, batchId: document.batchId,
                                 postedAs: entry.resolvedReference, netByAccount: document.netByAccount)
        }
    }
}
