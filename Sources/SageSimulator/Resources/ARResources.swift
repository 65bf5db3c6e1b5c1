import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// AR customers, receipt batches (`CA` receipts, `AD` adjustments) and invoice batches (invoices and
/// credit notes). Document numbers are unique per customer, as in Sage 300.
public enum ARResources {
    public static let customers = DocumentResource(
        resource: "AR/ARCustomers", keyFields: ["CustomerNumber"],
        create: { _, body, now in
            let number = try body.required("CustomerNumber", in: "a customer")
            guard number.count <= 12 else { throw SageError.fieldInvalid("CustomerNumber \(number) is longer than 12 characters.") }
            _ = try body.required("CustomerName", in: "customer \(number)")
            let stamp = JSONValue.string(Timestamps.iso8601Millis(now))
            return .object(DocumentResource.overlay([
                "ShortName": "", "GroupCode": "RTL", "Status": "Active", "OnHold": false, "AddressLine1": "",
                "AddressLine2": "", "City": "", "StateProvince": "", "ZipPostalCode": "", "Country": "USA",
                "ContactName": "", "PhoneNumber": "", "Email": "", "AccountSet": "RETAIL", "Terms": "NET30",
                "TaxGroup": "", "CurrencyCode": "USD", "CreditLimitCustomerCurrency": 0,
                "BalanceDueInFunctionalCurrency": 0, "DateLastMaintained": stamp,
            ], with: body))
        },
        update: { _, existing, patch, now in
            DocumentResource.merge(existing, patch, keeping: ["CustomerNumber"])
                .setting("DateLastMaintained", .string(Timestamps.iso8601Millis(now)))
        })

    static func requireCustomer(_ db: Database, _ number: String, context: String) throws {
        guard try SageRecords.exists(db, resource: customers.resource, key: number) else {
            throw SageError.fieldInvalid("Customer number \(number) does not exist. (\(context))")
        }
    }

    /// Claims a document number for a customer; a second use is a 409.
    static func claimDocument(_ db: Database, kind: String, customer: String, document: String, label: String) throws {
        let key = "\(kind)|\(customer)|\(document)"
        if try SageRecords.exists(db, resource: "AR/document-number", key: key) {
            throw SageError.duplicate("\(label) '\(document)' for customer \(customer) already exists.")
        }
        try SageRecords.insert(db, resource: "AR/document-number", key: key, json: .null, now: "")
    }

    public static let receiptBatches = DocumentResource(
        resource: "AR/ARReceiptAndAdjustmentBatches", keyFields: ["BatchRecordType", "BatchNumber"],
        create: { db, body, now in
            let recordType = body["BatchRecordType"]?.stringValue ?? "CA"
            guard ["CA", "AD"].contains(recordType) else { throw SageError.fieldInvalid("BatchRecordType must be CA or AD.") }
            let batchNumber = try SageRecords.nextNumber(db, "ar-receipt-batch-\(recordType)")
            var entries: [JSONValue] = []
            var total: Int64 = 0
            for (index, entry) in (body["ReceiptsAdjustments"]?.arrayValue ?? []).enumerated() {
                let customer = try entry.required("CustomerNumber", in: "receipt entry \(index + 1)")
                try requireCustomer(db, customer, context: "receipt entry \(index + 1)")
                guard let amount = Money.cents(fromDollars: entry["BankReceiptAmount"] ?? entry["CustomerReceiptAmount"]),
                    amount > 0 || recordType == "AD"
                else { throw SageError.fieldInvalid("Receipt entry \(index + 1): BankReceiptAmount must be a positive amount.") }
                let check = entry["CheckReceiptNumber"]?.stringValue ?? ""
                if !check.isEmpty {
                    try claimDocument(db, kind: "receipt", customer: customer, document: check, label: "Check/receipt number")
                }
                if recordType == "CA" {
                    _ = try ARPosting.applications(db, of: entry, customer: customer, receiptCents: amount, label: "Receipt entry \(index + 1)")
                }
                let document = String(format: "PY%08d", try SageRecords.nextNumber(db, "ar-receipt-document"))
                total += amount
                entries.append(.object(DocumentResource.overlay([
                    "EntryDescription": "", "EntryReference": "", "PaymentCode": "CASH", "ReceiptTransactionType": "Receipt",
                    "AppliedReceiptsAdjustments": [],
                ], with: entry).merging([
                    "BatchRecordType": .string(recordType), "BatchNumber": .int(batchNumber), "EntryNumber": .int(index + 1),
                    "DocumentNumber": .string(document), "BankReceiptAmount": Money.dollars(amount),
                    "CustomerReceiptAmount": Money.dollars(amount),
                ]) { _, new in new }))
            }
            guard !entries.isEmpty else { throw SageError.fieldInvalid("ReceiptsAdjustments needs at least one entry.") }
            return .object(DocumentResource.overlay([
                "Description": "", "BankCode": "SEATTLE", "DefaultBankCurrency": "USD",
                "BatchDate": .string(Timestamps.iso8601(now)),
            ], with: body).merging([
                "BatchRecordType": .string(recordType), "BatchNumber": .int(batchNumber), "BatchStatus": "Open",
                "NumberOfEntries": .int(entries.count), "BatchTotal": Money.dollars(total), "ReceiptsAdjustments": .array(entries),
            ]) { _, new in new })
        },
        // An entered batch can be deleted, as in Sage 300; its check/receipt numbers are free again. A posted one cannot.
        delete: { db, existing in
            let number = existing["BatchNumber"]?.int64Value.map(String.init) ?? "?"
            guard existing["BatchStatus"]?.stringValue == "Open" else {
                throw SageError.general("Receipt batch \(number) is posted and cannot be deleted.")
            }
            for entry in existing["ReceiptsAdjustments"]?.arrayValue ?? [] {
                guard let check = entry["CheckReceiptNumber"]?.stringValue, !check.isEmpty else { continue }
                try db.execute(sql: "DELETE FROM sage_record WHERE resource = ? AND key = ?",
                               arguments: ["AR/document-number", "receipt|\(entry["CustomerNumber"]?.stringValue ?? "")|\(check)"])
            }
        })

    public static let invoiceBatches = DocumentResource(
        resource: "AR/ARInvoiceBatches", keyFields: ["BatchNumber"],
        create: { db, body, now in
            let batchNumber = try SageRecords.nextNumber(db, "ar-invoice-batch")
            var invoices: [JSONValue] = []
            var total: Int64 = 0
            for (index, invoice) in (body["Invoices"]?.arrayValue ?? []).enumerated() {
                let customer = try invoice.required("CustomerNumber", in: "invoice entry \(index + 1)")
                try requireCustomer(db, customer, context: "invoice entry \(index + 1)")
                let type = invoice["DocumentType"]?.stringValue ?? "Invoice"
                guard ["Invoice", "CreditNote", "DebitNote"].contains(type) else {
                    throw SageError.fieldInvalid("DocumentType must be Invoice, CreditNote or DebitNote.")
                }
                let prefix = type == "CreditNote" ? "CN" : (type == "DebitNote" ? "DN" : "IN")
                let document = try invoice["DocumentNumber"]?.stringValue
                    ?? String(format: "\(prefix)%06d", SageRecords.nextNumber(db, "ar-\(prefix)"))
                try claimDocument(db, kind: "invoice", customer: customer, document: document, label: "Document number")
                var lines: [JSONValue] = []
                var documentTotal: Int64 = 0
                for (lineIndex, line) in (invoice["InvoiceDetails"]?.arrayValue ?? []).enumerated() {
                    guard let amount = Money.cents(fromDollars: line["Amount"]) else {
                        throw SageError.fieldInvalid("Invoice entry \(index + 1), line \(lineIndex + 1): Amount is required.")
                    }
                    documentTotal += amount
                    lines.append(line.setting("LineNumber", .int((lineIndex + 1) * 20)).setting("Amount", Money.dollars(amount)))
                }
                guard !lines.isEmpty else { throw SageError.fieldInvalid("Invoice entry \(index + 1): InvoiceDetails is required.") }
                total += type == "CreditNote" ? -documentTotal : documentTotal
                invoices.append(.object(DocumentResource.overlay(["InvoiceDescription": "", "PONumber": ""], with: invoice)
                    .merging([
                        "BatchNumber": .int(batchNumber), "EntryNumber": .int(index + 1), "DocumentType": .string(type),
                        "DocumentNumber": .string(document), "InvoiceDetails": .array(lines),
                        "DocumentTotalIncludingTax": Money.dollars(documentTotal),
                    ]) { _, new in new }))
            }
            guard !invoices.isEmpty else { throw SageError.fieldInvalid("Invoices needs at least one entry.") }
            return .object(DocumentResource.overlay(["Description": "", "BatchDate": .string(Timestamps.iso8601(now))], with: body)
                .merging([
                    "BatchNumber": .int(batchNumber), "BatchStatus": "Open", "NumberOfEntries": .int(invoices.count),
                    "BatchTotal": Money.dollars(total), "Invoices": .array(invoices),
                ]) { _, new in new })
        })
}
