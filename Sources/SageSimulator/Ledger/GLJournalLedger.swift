import BridgeClock
import Foundation
import GRDB
import SimulatorKit

/// `GL/GLJournalBatches` as a strict ledger. A batch is accepted whole or not at all: every entry
/// must balance to the cent, name existing active accounts, post into an open fiscal period and be
/// in the company's currency. Like Sage 300, it accepts any number of entries with one external
/// reference; `uniqueReferences` (opt-in, `--unique-references`) refuses a second one with 409.
public struct GLJournalLedger: Sendable {
    public static let resource = "GL/GLJournalBatches"
    public static let functionalCurrency = "USD"

    public let database: DatabasePool
    public let calendar: FiscalCalendar
    public let company: String
    public let clock: SimClock
    /// Refuse a second entry with an external reference already posted (Sage 300 does not).
    public let uniqueReferences: Bool

    public init(database: DatabasePool, calendar: FiscalCalendar, company: String, clock: SimClock, uniqueReferences: Bool = false) {
        self.database = database
        self.calendar = calendar
        self.company = company
        self.clock = clock
        self.uniqueReferences = uniqueReferences
    }

    /// Deletes an entered batch with its entries; false when there is none.
    public func deleteBatch(_ batchNumber: String) async throws -> Bool {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM gl_entry_reference WHERE batch_number = ?", arguments: [batchNumber])
            try db.execute(sql: "DELETE FROM sage_record WHERE resource = ? AND key = ?", arguments: [Self.resource, batchNumber])
            return db.changesCount > 0
        }
    }

    public func createBatch(_ body: JSONValue, enteredBy: String) async throws -> JSONValue {
        try await database.write { db in try createBatch(db, body: body, enteredBy: enteredBy) }
    }

    public func createBatch(_ db: Database, body: JSONValue, enteredBy: String) throws -> JSONValue {
        guard let headers = body["JournalHeaders"]?.arrayValue, !headers.isEmpty else {
            throw SageError.fieldInvalid("JournalHeaders is required: a batch needs at least one entry.")
        }
        let now = Timestamps.iso8601(clock.now())
        let batchNumber = String(format: "%06d", try SageRecords.nextNumber(db, "gl-batch"))
        let batchLedger = body["SourceLedger"]?.stringValue ?? "GL"
        var renderedHeaders: [JSONValue] = []
        var batchDebits: Int64 = 0
        var batchCredits: Int64 = 0
        for (index, header) in headers.enumerated() {
            let entry = try renderEntry(
                db, header: header, batchNumber: batchNumber, entryNumber: index + 1, defaultLedger: batchLedger,
                enteredBy: enteredBy)
            renderedHeaders.append(entry.json)
            batchDebits += entry.debits
            batchCredits += entry.credits
        }
        let batch: JSONValue = [
            "BatchNumber": .string(batchNumber), "Description": body["Description"] ?? "",
            "SourceLedger": .string(batchLedger), "JournalBatchType": "Entered", "Status": "Open",
            "PostingSequence": 0, "Debits": Money.dollars(batchDebits), "Credits": Money.dollars(batchCredits),
            "NumberOfEntries": .int(headers.count), "NumberOfErrors": 0, "ReadyToPost": false,
            "DateCreated": .string(now), "DateLastEdited": .string(now), "JournalHeaders": .array(renderedHeaders),
        ]
        try SageRecords.insert(db, resource: Self.resource, key: batchNumber, json: batch, now: now)
        return batch
    }

    struct RenderedEntry {
        let json: JSONValue
        let debits: Int64
        let credits: Int64
    }

    private func renderEntry(
        _ db: Database, header: JSONValue, batchNumber: String, entryNumber: Int, defaultLedger: String,
        enteredBy: String
    ) throws -> RenderedEntry {
        let ledger = header["SourceLedger"]?.stringValue ?? defaultLedger
        let sourceType = header["SourceType"]?.stringValue ?? "JE"
        let documentNumber = header["DocumentNumber"]?.stringValue ?? ""
        let label = "Entry \(entryNumber)" + (documentNumber.isEmpty ? "" : " (document \(documentNumber))")
        guard let postingDate = header["PostingDate"]?.stringValue, Timestamps.parse(String(postingDate.prefix(10))) != nil
        else {
            throw SageError.fieldInvalid("\(label): Cannot determine the fiscal period for Posting Date.")
        }
        guard let period = calendar.openPeriod(forDay: postingDate) else {
            let day = postingDate.prefix(10)
            throw SageError.fieldInvalid(
                "\(label): Posting Date \(day) is not in an open fiscal period (open: \(calendar.open.from) to \(calendar.open.to)).")
        }
        guard let details = header["JournalDetails"]?.arrayValue, details.count >= 2 else {
            throw SageError.fieldInvalid("\(label): JournalDetails needs at least two lines.")
        }
        var rendered: [JSONValue] = []
        var debits: Int64 = 0
        var credits: Int64 = 0
        for (lineIndex, detail) in details.enumerated() {
            guard let account = detail["AccountNumber"]?.stringValue, !account.isEmpty else {
                throw SageError.fieldInvalid("\(label), line \(lineIndex + 1): AccountNumber is required.")
            }
            guard let accountJSON = try SageRecords.fetch(db, resource: GLAccounts.resource, key: account) else {
                throw SageError.fieldInvalid("Account \(account) does not exist. (\(label), line \(lineIndex + 1))")
            }
            guard accountJSON["Status"] == "Active" else {
                throw SageError.fieldInvalid("Account \(account) is inactive. (\(label), line \(lineIndex + 1))")
            }
            guard let amount = Money.cents(fromDollars: detail["Amount"]) else {
                throw SageError.fieldInvalid("\(label), line \(lineIndex + 1): Amount must be a number with at most two decimals.")
            }
            let currency = detail["SourceCurrency"]?.stringValue ?? Self.functionalCurrency
            guard currency == Self.functionalCurrency else {
                throw SageError.fieldInvalid(
                    "\(label), line \(lineIndex + 1): Currency \(currency) is not the functional currency (\(Self.functionalCurrency)) of company \(company).")
            }
            if amount > 0 { debits += amount } else { credits -= amount }
            rendered.append([
                "BatchNumber": .string(batchNumber), "EntryNumber": .int(entryNumber),
                "TransactionNumber": .int((lineIndex + 1) * 20), "AccountNumber": .string(account),
                "Amount": Money.dollars(amount), "Quantity": 0, "SourceCurrencyAmount": Money.dollars(amount),
                "HomeCurrency": .string(Self.functionalCurrency), "SourceCurrency": .string(currency),
                "Description": detail["Description"] ?? "", "Reference": detail["Reference"] ?? "",
                "Comment": detail["Comment"] ?? "", "JournalDate": .string(postingDate),
                "SourceLedger": .string(ledger), "SourceType": .string(sourceType),
                "AcctDescription": accountJSON["Description"] ?? "", "AcctFormatted": .string(account),
            ])
        }
        guard debits == credits else {
            throw SageError.general(
                "\(label) is out of balance by \(Money.text(debits - credits)) (debits \(Money.text(debits)), credits \(Money.text(credits))).")
        }
        let reference = documentNumber.isEmpty ? (details.first?["Reference"]?.stringValue ?? "") : documentNumber
        if !reference.isEmpty {
            try claim(db, ledger: ledger, sourceType: sourceType, reference: reference, batchNumber: batchNumber,
                entryNumber: entryNumber)
        }
        let json: JSONValue = [
            "BatchNumber": .string(batchNumber), "EntryNumber": .int(entryNumber), "SourceLedger": .string(ledger),
            "SourceType": .string(sourceType), "FiscalYear": .string(period.year), "FiscalPeriod": .string(period.period),
            "Description": header["Description"] ?? "", "PostingDate": .string(postingDate),
            "DocumentDate": header["DocumentDate"] ?? .string(postingDate), "Debits": Money.dollars(debits),
            "Credits": Money.dollars(credits), "OutOfBalanceBy": 0, "AutoReversal": false, "EntryType": "Normal",
            "CustomerVendorNumber": header["CustomerVendorNumber"] ?? "", "DocumentType": header["DocumentType"] ?? "",
            "DocumentNumber": .string(documentNumber), "EnteredBy": .string(enteredBy),
            "JournalDetails": .array(rendered),
        ]
        return RenderedEntry(json: json, debits: debits, credits: credits)
    }

    /// Records the entry's external reference; with `uniqueReferences`, a second journal with it is a 409.
    private func claim(
        _ db: Database, ledger: String, sourceType: String, reference: String, batchNumber: String, entryNumber: Int
    ) throws {
        if uniqueReferences, let row = try Row.fetchOne(
            db,
            sql: "SELECT batch_number, entry_number FROM gl_entry_reference WHERE source_ledger = ? AND source_type = ? AND reference = ?",
            arguments: [ledger, sourceType, reference])
        {
            let existingBatch: String = row["batch_number"]
            let existingEntry: Int = row["entry_number"]
            let place = existingBatch == batchNumber ? "earlier in this batch" : "in batch \(existingBatch), entry \(existingEntry)"
            throw SageError.duplicate("Journal entry with reference '\(reference)' (source \(ledger)-\(sourceType)) already exists \(place).")
        }
        try db.execute(
            sql: "INSERT INTO gl_entry_reference (source_ledger, source_type, reference, batch_number, entry_number) VALUES (?, ?, ?, ?, ?)",
            arguments: [ledger, sourceType, reference, batchNumber, entryNumber])
    }

    /// Every entry of every batch, for `GL/GLJournalHeaders`.
    public static func headers(of batches: [JSONValue]) -> [JSONValue] {
        batches.flatMap { $0["JournalHeaders"]?.arrayValue ?? [] }
    }

    /// Every line of every entry, for `GL/GLJournalDetails`.
    public static func details(of batches: [JSONValue]) -> [JSONValue] {
        headers(of: batches).flatMap { $0["JournalDetails"]?.arrayValue ?? [] }
    }
}
