import Accounting
import Foundation

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
                          reason: $0.reason, differences: $0.differences.count)
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
