/// Turns a payroll run into one balanced journal entry following ACCOUNTING.md "Payroll run":
/// debit wages (gross) and employer taxes, credit one liability line per tax or deduction code
/// and the net pay to the bank account.
public struct PayrollJournalBuilder: Sendable {
    public let rules: MappingRules

    public init(rules: MappingRules) { self.rules = rules }

    public func build(_ run: PayRun) throws(PostingError) -> JournalEntry {
        guard run.currency == rules.currency else {
            throw .currencyMismatch(record: "pay run \(run.id)", found: run.currency, expected: rules.currency)
        }
        var ledger = JournalLedger(currency: run.currency)
                var gross = Money.zero(run.currency)
        var employerTaxes = Money.zero(run.currency)
        var net = Money.zero(run.currency)
        // Collected apart so the entry reads: expenses, then liabilities per code, then net pay.
        var liabilities = JournalLedger(currency: run.currency)
        for check in run.paychecks {
            let record = "pay run \(run.id) employee \(check.employeeID) (\(check.employeeName))"
            func sum(_ a: Money, _ b: Money) throws(PostingError) -> Money {
                do { return try a.adding(b) } catch {
                    if case .currencyMismatch(let x, let y) = error { throw .currencyMismatch(record: record, found: y == run.currency ? x : y, expected: run.currency) }
                    throw .overflow(record: record, detail: error.description)
                }
            }
            var computedNet = check.gross
            for tax in check.taxes {
                guard let rule = rules.payrollTaxAccount(code: tax.code) else {
                    throw .unmappedCode(code: tax.code, kind: "payroll tax", rule: "payroll.taxes.\(MappingRules.normalisedCode(tax.code))",
                                        record: record, mappingFile: rules.source)
                }
                let code = MappingRules.normalisedCode(tax.code)
                switch tax.payer {
                case .employee:
                    computedNet = try sum(computedNet, try negate(tax.amount, record: record))
                    try liabilities.postSigned(tax.amount, positive: .credit, rule, positiveDescription: "\(code) withheld",
                                               negativeDescription: "\(code) withholding refunded", record: record)
                case .employer:
                    employerTaxes = try sum(employerTaxes, tax.amount)
                    try liabilities.postSigned(tax.amount, positive: .credit, rule, positiveDescription: "\(code) employer",
                                               negativeDescription: "\(code) employer credit", record: record)
                }
            }
            for deduction in check.deductions {
                let code = MappingRules.normalisedCode(deduction.code)
                guard let rule = rules.deductionAccount(code: deduction.code) else {
                    throw .unmappedCode(code: deduction.code, kind: "payroll deduction", rule: "payroll.deductions.codes.\(code)",
                                        record: record, mappingFile: rules.source)
                }
                computedNet = try sum(computedNet, try negate(deduction.amount, record: record))
                try liabilities.postSigned(deduction.amount, positive: .credit, rule, positiveDescription: "\(code) deduction",
                                           negativeDescription: "\(code) deduction refunded", record: record)
            }
            guard computedNet == check.net else {
                throw .netPayMismatch(payRun: run.id, employee: check.employeeID, name: check.employeeName,
                                      reportedNet: check.net.minorUnits, computedNet: computedNet.minorUnits)
            }
            gross = try sum(gross, check.gross)
            net = try sum(net, check.net)
        }
        let record = "pay run \(run.id)"
        try ledger.postSigned(gross, positive: .debit, rules.wages, positiveDescription: "Gross wages",
                              negativeDescription: "Gross wages reversed", record: record)
        try ledger.postSigned(employerTaxes, positive: .debit, rules.employerTaxes, positiveDescription: "Employer payroll taxes",
                              negativeDescription: "Employer payroll tax credits", record: record)
        var netPay = JournalLedger(currency: run.currency)
        try netPay.postSigned(net, positive: .credit, rules.netPay, positiveDescription: "Net pay",
                              negativeDescription: "Net pay recovered", record: record)
        return try JournalEntry.balanced(
            source: .payroll, reference: "HL-PAY-\(run.id)", idempotencyKey: "heartland:pay_run:\(run.id)",
            postingDate: run.checkDate, description: "Heartland payroll \(run.id) check date \(run.checkDate.sageFormat)",
            currency: run.currency, lines: ledger.lines + liabilities.lines + netPay.lines)
    }

    private func negate(_ amount: Money, record: String) throws(PostingError) -> Money {
        do { return try amount.negated() } catch { throw .overflow(record: record, detail: error.description) }
    }
}
