import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// Posting AR batches, as Sage 300 does with `AR/ARPostInvoices` and `AR/ARPostReceiptsAndAdjustments`: an entered
/// (`Open`) batch becomes `Posted`, each of its documents is readable at `AR/ARPostedDocuments` (key `CustomerNumber`,
/// `DocumentNumber`), and the customer's balance moves. A posted batch cannot be posted again. Posting here creates no
/// G/L batch: Sage 300 makes those on request (AR's G/L integration), and the bridge posts the GL side itself, through
/// AR's control account, in the day journal.
public enum ARPosting {
    /// Read-only: documents exist only by posting a batch.
    public static let postedDocuments = DocumentResource(
        resource: "AR/ARPostedDocuments", keyFields: ["CustomerNumber", "DocumentNumber"],
        create: { _, _, _ in throw SageError(status: 405, code: "MethodNotAllowed", message: "AR/ARPostedDocuments cannot be created; post a batch.") })

    /// `POST AR/ARPostInvoices {"BatchNumber": n}`: the invoices, credit notes and debit notes of an open invoice batch.
    public static func postInvoices(_ db: Database, body: JSONValue, now: Date) throws -> JSONValue {
        guard let number = body["BatchNumber"]?.int64Value else { throw SageError.fieldInvalid("BatchNumber is required.") }
        let key = String(number)
        guard let batch = try SageRecords.fetch(db, resource: ARResources.invoiceBatches.resource, key: key) else {
            throw SageError.notFound("Invoice batch \(number) does not exist.")
        }
        guard batch["BatchStatus"]?.stringValue == "Open" else { throw SageError.general("Invoice batch \(number) is already posted.") }
        let sequence = try SageRecords.nextNumber(db, "ar-posting-sequence")
        for invoice in batch["Invoices"]?.arrayValue ?? [] {
            let type = invoice["DocumentType"]?.stringValue ?? "Invoice"
            let total = Money.cents(fromDollars: invoice["DocumentTotalIncludingTax"]) ?? 0
            let signed = type == "CreditNote" ? -total : total
            let date = invoice["DocumentDate"]?.stringValue ?? batch["BatchDate"]?.stringValue ?? Timestamps.iso8601(now)
            try record(db, [
                "CustomerNumber": invoice["CustomerNumber"] ?? "", "DocumentNumber": invoice["DocumentNumber"] ?? "",
                "DocumentType": .string(type), "DocumentDate": .string(date), "DueDate": .string(dueDate(date)),
                "Description": invoice["InvoiceDescription"] ?? "", "BatchNumber": .int(number), "EntryNumber": invoice["EntryNumber"] ?? 0,
                "OriginalDocumentAmount": Money.dollars(signed), "CurrentBalance": Money.dollars(signed),
                "FullyPaid": .string(signed == 0 ? "Yes" : "No"), "DatePaid": .null, "PostingSequenceNumber": .int(sequence),
            ], customerDelta: signed, now: now)
        }
        let posted = batch.setting("BatchStatus", "Posted").setting("PostingSequence", .int(sequence))
        try SageRecords.update(db, resource: ARResources.invoiceBatches.resource, key: key, json: posted, now: Timestamps.iso8601Millis(now))
        return posted
    }

    /// `POST AR/ARPostReceiptsAndAdjustments {"BatchRecordType": "CA", "BatchNumber": n}`: the receipts of an open receipt
    /// batch. A receipt applied to documents (`AppliedReceiptsAdjustments`) pays them down; the rest stays on the
    /// customer's account as unapplied cash.
    public static func postReceipts(_ db: Database, body: JSONValue, now: Date) throws -> JSONValue {
        let recordType = body["BatchRecordType"]?.stringValue ?? "CA"
        guard let number = body["BatchNumber"]?.int64Value else { throw SageError.fieldInvalid("BatchNumber is required.") }
        let key = "\(recordType)|\(number)"
        guard let batch = try SageRecords.fetch(db, resource: ARResources.receiptBatches.resource, key: key) else {
            throw SageError.notFound("Receipt batch \(recordType) \(number) does not exist.")
        }
        guard batch["BatchStatus"]?.stringValue == "Open" else { throw SageError.general("Receipt batch \(number) is already posted.") }
        let sequence = try SageRecords.nextNumber(db, "ar-posting-sequence")
        let date = Timestamps.iso8601(now)
        for entry in batch["ReceiptsAdjustments"]?.arrayValue ?? [] {
            let customer = entry["CustomerNumber"]?.stringValue ?? ""
            let amount = Money.cents(fromDollars: entry["CustomerReceiptAmount"]) ?? 0
            var unapplied = amount
            // Checked again here: an entered batch may be posted long after entry, when another receipt has paid the document.
            for application in try applications(db, of: entry, customer: customer, receiptCents: amount, label: "Receipt \(number)") {
                unapplied -= application.cents
                let balance = application.balance - application.cents
                let updated = application.document.setting("CurrentBalance", Money.dollars(balance)).setting("FullyPaid", .string(balance == 0 ? "Yes" : "No"))
                    .setting("DatePaid", balance == 0 ? .string(date) : .null)
                try SageRecords.update(db, resource: postedDocuments.resource, key: application.key, json: updated, now: Timestamps.iso8601Millis(now))
            }
            let documentDate = entry["ReceiptDateAdjustmentDate"]?.stringValue ?? batch["BatchDate"]?.stringValue ?? date
            try record(db, [
                "CustomerNumber": .string(customer), "DocumentNumber": entry["DocumentNumber"] ?? "",
                "DocumentType": .string(recordType == "CA" ? "Receipt" : "Adjustment"), "DocumentDate": .string(documentDate),
                "DueDate": .string(documentDate), "Description": entry["EntryDescription"] ?? "",
                "CheckReceiptNumber": entry["CheckReceiptNumber"] ?? "", "BatchNumber": .int(number), "EntryNumber": entry["EntryNumber"] ?? 0,
                "OriginalDocumentAmount": Money.dollars(-amount), "CurrentBalance": Money.dollars(-unapplied),
                "FullyPaid": .string(unapplied == 0 ? "Yes" : "No"), "DatePaid": unapplied == 0 ? .string(date) : .null,
                "PostingSequenceNumber": .int(sequence),
            ], customerDelta: -amount, now: now)
            if amount > 0 {
                try adjustCustomer(db, customer, by: 0, lastReceipt: (amount, date), now: now)
            }
        }
        let posted = batch.setting("BatchStatus", "Posted").setting("PostingSequence", .int(sequence))
        try SageRecords.update(db, resource: ARResources.receiptBatches.resource, key: key, json: posted, now: Timestamps.iso8601Millis(now))
        return posted
    }

    /// One apply-document line of a receipt, checked.
    struct Application {
        var key: String
        var document: JSONValue
        /// The document's balance before this receipt.
        var balance: Int64
        var cents: Int64
    }

    /// Sage 300's checks of a receipt's apply-document lines (`AppliedReceiptsAdjustments`), on entry and on posting: each
    /// names a posted document of the receipt's own customer, pays a positive amount no larger than what is still owed on
    /// it, and together they pay no more than the receipt. Refused with Sage's `FieldInvalid` error otherwise.
    static func applications(_ db: Database, of entry: JSONValue, customer: String, receiptCents: Int64, label: String) throws -> [Application] {
        var checked: [Application] = []
        var total: Int64 = 0
        for (index, applied) in (entry["AppliedReceiptsAdjustments"]?.arrayValue ?? []).enumerated() {
            let line = "\(label), applied document \(index + 1)"
            guard let number = applied["DocumentNumber"]?.stringValue, !number.isEmpty else {
                throw SageError.fieldInvalid("\(line): DocumentNumber is required.")
            }
            if let other = applied["CustomerNumber"]?.stringValue, !other.isEmpty, other != customer {
                throw SageError.fieldInvalid("\(line): document '\(number)' of customer \(other) cannot be applied to a receipt of customer \(customer).")
            }
            let key = "\(customer)|\(number)"
            guard let document = try SageRecords.fetch(db, resource: postedDocuments.resource, key: key) else {
                throw SageError.fieldInvalid("\(line): document number '\(number)' does not exist for customer \(customer).")
            }
            guard let cents = Money.cents(fromDollars: applied["CustomerReceiptAmount"]), cents > 0 else {
                throw SageError.fieldInvalid("\(line): CustomerReceiptAmount must be a positive amount.")
            }
            // A document named twice in one receipt is paid down by the first line before the second is checked.
            let balance = checked.last { $0.key == key }.map { $0.balance - $0.cents } ?? Money.cents(fromDollars: document["CurrentBalance"]) ?? 0
            guard cents <= balance else {
                throw SageError.fieldInvalid("\(line): applied amount \(Money.text(cents)) exceeds the balance \(Money.text(max(0, balance))) of document '\(number)'.")
            }
            total += cents
            guard total <= receiptCents else {
                throw SageError.fieldInvalid("\(label): the applied amounts (\(Money.text(total))) exceed the receipt amount (\(Money.text(receiptCents))).")
            }
            checked.append(Application(key: key, document: checked.last { $0.key == key }?.document ?? document, balance: balance, cents: cents))
        }
        return checked
    }

    private static func record(_ db: Database, _ fields: [String: JSONValue], customerDelta: Int64, now: Date) throws {
        let document = JSONValue.object(fields)
        let key = postedDocuments.storageKey(of: document)
        guard try !SageRecords.exists(db, resource: postedDocuments.resource, key: key) else {
            throw SageError.duplicate("Document number '\(fields["DocumentNumber"]?.stringValue ?? "")' for customer "
                + "\(fields["CustomerNumber"]?.stringValue ?? "") already exists.")
        }
        try SageRecords.insert(db, resource: postedDocuments.resource, key: key, json: document, now: Timestamps.iso8601Millis(now))
        try adjustCustomer(db, fields["CustomerNumber"]?.stringValue ?? "", by: customerDelta, lastReceipt: nil, now: now)
    }

    private static func adjustCustomer(_ db: Database, _ number: String, by cents: Int64, lastReceipt: (Int64, String)?, now: Date) throws {
        guard var customer = try SageRecords.fetch(db, resource: ARResources.customers.resource, key: number) else {
            throw SageError.fieldInvalid("Customer number \(number) does not exist.")
        }
        let balance = (Money.cents(fromDollars: customer["BalanceDueInFunctionalCurrency"]) ?? 0) + cents
        customer = customer.setting("BalanceDueInFunctionalCurrency", Money.dollars(balance))
        if let (amount, date) = lastReceipt {
            customer = customer.setting("DateOfLastReceipt", .string(date)).setting("LastReceiptCustomerCurrency", Money.dollars(amount))
        }
        try SageRecords.update(db, resource: ARResources.customers.resource, key: number, json: customer, now: Timestamps.iso8601Millis(now))
    }

    /// Thirty days after the document date (the default terms, `NET30`).
    static func dueDate(_ date: String) -> String {
        guard let day = Timestamps.parse(String(date.prefix(10))) else { return date }
        return Timestamps.iso8601(day.addingTimeInterval(30 * 86_400))
    }
}
