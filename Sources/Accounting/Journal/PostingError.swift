/// Why a store day or pay run cannot post. Every case is permanent: retrying the same input
/// gives the same error, so the message goes to the dead-letter queue with this text.
public enum PostingError: Error, Equatable, Sendable, CustomStringConvertible {
    case unbalanced(reference: String, debits: Int64, credits: Int64)
    case currencyMismatch(record: String, found: CurrencyCode, expected: CurrencyCode)
    case overflow(record: String, detail: String)
    case invalidData(record: String, problem: String)
    /// A ticket whose local completion date is not the store day being posted.
    case ticketOutsideBusinessDay(ticket: TicketID, localDate: BusinessDate, businessDate: BusinessDate, timeZone: String)
    case ticketOutOfBalance(ticket: TicketID, tendered: Int64, owed: Int64)
    case batchDisagreesWithTickets(batch: BatchID, brand: String, batchCents: Int64, ticketCents: Int64)
    /// A payroll tax or deduction code no rule maps; `rule` is where to add it.
    case unmappedCode(code: String, kind: String, rule: String, record: String, mappingFile: String)
    case netPayMismatch(payRun: PayRunID, employee: EmployeeID, name: String, reportedNet: Int64, computedNet: Int64)

    public var description: String {
        switch self {
        case .unbalanced(let reference, let debits, let credits):
            return "journal \(reference) does not balance: debits \(Money.decimalString(debits)), credits "
                + "\(Money.decimalString(credits)), difference \(Money.decimalString(debits &- credits)); nothing was posted. "
                + "The source data is inconsistent or a mapping rule is missing; fix the source or Config/mapping.yaml and replay"
        case .currencyMismatch(let record, let found, let expected):
            return "\(record) is in \(found) but the Sage company posts in \(expected); currencies are never converted, "
                + "so this cannot post. Check the store's currency or company.currency in the mapping file"
        case .overflow(let record, let detail):
            return "\(record): \(detail); the amounts are not plausible, check the source record"
        case .invalidData(let record, let problem):
            return "\(record) \(problem); fix the record at the source and replay"
        case .ticketOutsideBusinessDay(let ticket, let local, let day, let zone):
            return "ticket \(ticket) was completed on \(local.iso) in \(zone), not on business day \(day.iso); "
                + "it belongs to that day's journal. Fetch the store day's tickets by local business day"
        case .ticketOutOfBalance(let ticket, let tendered, let owed):
            return "ticket \(ticket) does not balance: tenders \(Money.decimalString(tendered)) but lines plus tips "
                + "\(Money.decimalString(owed)) (difference \(Money.decimalString(tendered &- owed))); check the ticket in Heartland"
        case .batchDisagreesWithTickets(let batch, let brand, let batchCents, let ticketCents):
            return "settlement batch \(batch) shows \(Money.decimalString(batchCents)) net for \(brand) but the day's tickets "
                + "have \(Money.decimalString(ticketCents)) in \(brand) card tenders (difference "
                + "\(Money.decimalString(batchCents &- ticketCents))); a ticket is missing or the batch is incomplete. "
                + "Re-fetch the store day and replay"
        case .unmappedCode(let code, let kind, let rule, let record, let file):
            return "\(kind) code \(code) on \(record) has no mapping rule; add \(rule) to \(file), then run "
                + "`bridgectl dlq replay`"
        case .netPayMismatch(let run, let employee, let name, let reported, let computed):
            return "pay run \(run): employee \(employee) (\(name)) net pay \(Money.decimalString(reported)) does not equal gross "
                + "minus withholdings and deductions \(Money.decimalString(computed)) (difference "
                + "\(Money.decimalString(reported &- computed))); correct the paycheck in Heartland Payroll and replay"
        }
    }
}
