import Foundation

/// The console, CSV and JSON forms of reconciliation reports (`bridgectl report reconciliation`).
extension ReconciliationReport {
    public static let csvHeader = "store,business_date,batch,reference,status,check,label,account,expected,sage,difference"

    /// One row per compared figure; a report without figures still gets one row so it shows.
    public static func csv(_ reports: [ReconciliationReport]) -> String {
        var rows = [csvHeader]
        for report in reports {
            let prefix = [report.storeID.rawValue, report.businessDate.iso, report.batchID?.rawValue ?? "", report.reference,
                          report.status.rawValue]
            if report.lines.isEmpty {
                rows.append((prefix + ["", "", "", "", "", ""]).map(csvField).joined(separator: ","))
            }
            for line in report.lines {
                let figures = [line.check.rawValue, line.label, line.account.rawValue, Money.decimalString(line.expectedCents),
                               line.sageCents.map(Money.decimalString) ?? "", line.differenceCents.map(Money.decimalString) ?? ""]
                rows.append((prefix + figures).map(csvField).joined(separator: ","))
            }
            for refund in report.refunds ?? [] {
                let state = refund.status.rawValue + (refund.detail.map { ": \($0)" } ?? "")
                let figures = ["refund", "\(refund.ticket) (\(state))", refund.reference, Money.decimalString(refund.amountCents),
                               refund.status == .posted ? Money.decimalString(refund.amountCents) : "", ""]
                rows.append((prefix + figures).map(csvField).joined(separator: ","))
            }
            for document in report.receivables ?? [] {
                // check `ar_<status>`, label the document, account the customer (the day's, else Sage's).
                let customer: String = document.expectedCustomer ?? document.sageCustomer ?? ""
                let expected: String = document.expectedCents.map { Money.decimalString($0) } ?? ""
                let sage: String = document.sageCents.map { Money.decimalString($0) } ?? ""
                var difference = ""
                if let day = document.expectedCents, let held = document.sageCents { difference = Money.decimalString(held - day) }
                let figures: [String] = ["ar_\(document.status.rawValue)", "\(document.kind.rawValue) \(document.documentNumber)", customer, expected,
                                         sage, difference]
                rows.append((prefix + figures).map(csvField).joined(separator: ","))
            }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// A fixed-width table per report, for the console.
    public static func table(_ reports: [ReconciliationReport]) -> String {
        var out: [String] = []
        for report in reports {
            var title = "store \(report.storeID)  \(report.businessDate.sageFormat)  \(report.reference)  \(report.status.rawValue.uppercased())"
            if let totals = report.heartlandTotals {
                title += "  (Heartland: \(totals.transactionCount) card transactions, sales \(Money.decimalString(totals.sales.minorUnits)), "
                    + "refunds \(Money.decimalString(totals.refunds.minorUnits)), tips \(Money.decimalString(totals.tips.minorUnits)), "
                    + "fees \(Money.decimalString(totals.fees.minorUnits)))"
            }
            out.append(title)
            if let reason = report.reason { out.append("  \(reason)") }
            let header = ["check", "label", "account", "expected", "sage", "difference"]
            let rows = report.lines.map { line in
                [line.check.rawValue, line.label, line.account.rawValue, Money.decimalString(line.expectedCents),
                 line.sageCents.map(Money.decimalString) ?? "-", line.differenceCents.map(Money.decimalString) ?? "-"]
            }
            let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
            func render(_ cells: [String]) -> String {
                "  " + cells.enumerated().map { index, cell in
                    let pad = String(repeating: " ", count: widths[index] - cell.count)
                    return index >= 3 ? pad + cell : cell + pad  // amounts right-aligned
                }.joined(separator: "  ")
            }
            if !rows.isEmpty {
                out.append(render(header))
                out.append(contentsOf: rows.map(render))
            }
            if let refunds = report.refunds, !refunds.isEmpty {
                out.append("  posted apart: card refunds, the batch's other days, corrected tickets (included above once in Sage):")
                for refund in refunds {
                    // A refund names its return ticket and the money given back; another journal of the batch says what it is.
                    let what = refund.amountCents == 0 ? refund.ticket : "ticket \(refund.ticket)  \(Money.decimalString(refund.amountCents))"
                    out.append("    \(refund.reference)  \(what)  " + refund.status.rawValue + (refund.detail.map { " (\($0))" } ?? ""))
                }
            }
            if let documents = report.receivables, !documents.isEmpty {
                out.append("  Sage AR, the on-account tickets' documents:")
                for document in documents {
                    let customers = [document.expectedCustomer.map { "day \($0)" }, document.sageCustomer.map { "Sage \($0)" }].compactMap { $0 }
                    let amounts = [document.expectedCents.map { "day \(Money.decimalString($0))" }, document.sageCents.map { "Sage \(Money.decimalString($0))" }]
                        .compactMap { $0 }
                    out.append("    \(document.kind.rawValue) \(document.documentNumber)" + (document.ticket.map { "  ticket \($0)" } ?? "")
                        + "  \(customers.joined(separator: " / "))  \(amounts.joined(separator: " / "))  \(document.status.words)")
                }
            }
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    /// Pretty, key-sorted JSON of the reports.
    public static func json(_ reports: [ReconciliationReport]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(reports), as: UTF8.self)
    }

    private static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
