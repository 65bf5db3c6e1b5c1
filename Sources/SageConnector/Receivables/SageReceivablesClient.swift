import Foundation
import Logging

/// Sage 300 accounts receivable over the Web API (reference §6a): invoice batches (`AR/ARInvoiceBatches`), receipt
/// batches (`AR/ARReceiptAndAdjustmentBatches`, record type `CA`), posting them (`AR/ARPostInvoices`,
/// `AR/ARPostReceiptsAndAdjustments`) and the posted documents (`AR/ARPostedDocuments`). Sage refuses a second document
/// number per customer (409 → `.duplicateReference`) but has no other duplicate key: the caller looks its number up
/// (`postedDocuments`, `openInvoiceBatches`, `openReceiptBatches`) before creating a batch.
public struct SageReceivablesClient: Sendable {
    let api: SageWebAPIClient

    public init(connection: SageConnection, logger: Logger) {
        api = SageWebAPIClient(connection: connection, logger: logger)
    }

    var transport: SageHTTPTransport { api.transport }

    /// Posted documents with this number (of any customer): an invoice's `DocumentNumber`, or a receipt's
    /// `CheckReceiptNumber` when `receipt` is set.
    public func postedDocuments(number: String, receipt: Bool) async throws(SageError) -> [SageARPostedDocument] {
        let field = receipt ? "CheckReceiptNumber" : "DocumentNumber"
        return try await api.list("AR/ARPostedDocuments", filter: "\(field) eq \(ODataQuery.literal(number))")
    }

    /// Posted documents (of any customer) numbered with any of `numbers`, as an invoice's `DocumentNumber` or a receipt's
    /// `CheckReceiptNumber`, each once. Read in as few queries as `numberFilters` makes of them: a batch's 50,000 tickets
    /// in one, where one query per 20 numbers was 2,500 (8 s against the simulator, minutes against a Sage 60 ms away).
    public func postedDocuments(numbers: [String]) async throws(SageError) -> [SageARPostedDocument] {
        let wanted = Set(numbers)
        var seen: Set<SageARPostedDocument> = []
        var found: [SageARPostedDocument] = []
        for filter in Self.numberFilters(numbers) {
            let page: [SageARPostedDocument] = try await api.list("AR/ARPostedDocuments", filter: filter)
            for document in page where wanted.contains(document.DocumentNumber) || document.CheckReceiptNumber.map(wanted.contains) == true {
                if seen.insert(document).inserted { found.append(document) }
            }
        }
        return found
    }

    /// The `$filter`s that find every document numbered with one of `numbers`. Numbers that end in digits after a common
    /// prefix (`HL-T98330150201`) and lie close together (a gap of at most `runGap` between neighbours, the same number of
    /// digits) are a run, read as one range: `DocumentNumber ge 'HL-T98330150201' and DocumentNumber le 'HL-T98330199999'`
    /// (or the same of `CheckReceiptNumber`). Between two numbers of as many digits after the same prefix a string range
    /// holds exactly the numbers between, in any collation that orders digits; it may also hold numbers of other lengths
    /// (`HL-T983301502015`), which the caller drops: the answer is a superset, never a subset. A number in no run of at
    /// least `minimumRun` is asked for by equality, 20 to a query.
    static func numberFilters(_ numbers: [String], runGap: UInt64 = 1_000, minimumRun: Int = 3) -> [String] {
        struct Numbered: Hashable {
            var prefix: Substring
            var digits: Int
        }
        var groups: [Numbered: [(value: UInt64, text: String)]] = [:]
        var singles: [String] = []
        for number in Set(numbers).sorted() {
            let suffix = number.reversed().prefix { $0.isASCII && $0.isNumber }.count
            guard (1...18).contains(suffix), let value = UInt64(number.suffix(suffix)) else {
                singles.append(number)
                continue
            }
            groups[Numbered(prefix: number.dropLast(suffix), digits: suffix), default: []].append((value, number))
        }
        var ranges: [(low: String, high: String)] = []
        for key in groups.keys.sorted(by: { ($0.prefix, $0.digits) < ($1.prefix, $1.digits) }) {
            // Within one prefix and length, string order is number order: the group is sorted already.
            var run: [(value: UInt64, text: String)] = []
            func close() {
                if run.count >= minimumRun { ranges.append((run[0].text, run[run.count - 1].text)) } else { singles += run.map(\.text) }
                run = []
            }
            for number in groups[key] ?? [] {
                if let last = run.last, number.value - last.value > runGap { close() }
                run.append(number)
            }
            close()
        }
        func range(_ field: String, _ low: String, _ high: String) -> String {
            "(\(field) ge \(ODataQuery.literal(low)) and \(field) le \(ODataQuery.literal(high)))"
        }
        var filters = ranges.map { range("DocumentNumber", $0.low, $0.high) + " or " + range("CheckReceiptNumber", $0.low, $0.high) }
        singles.sort()
        var start = 0
        while start < singles.count {
            filters.append(singles[start..<min(start + 20, singles.count)]
                .map { "DocumentNumber eq \(ODataQuery.literal($0)) or CheckReceiptNumber eq \(ODataQuery.literal($0))" }
                .joined(separator: " or "))
            start += 20
        }
        return filters
    }

    /// A customer's posted documents.
    public func postedDocuments(customer: String) async throws(SageError) -> [SageARPostedDocument] {
        try await api.list("AR/ARPostedDocuments", filter: "CustomerNumber eq \(ODataQuery.literal(customer))")
    }

    /// Entered (unposted) invoice batches: a batch created before a crash, still to be posted.
    public func openInvoiceBatches() async throws(SageError) -> [SageARInvoiceBatch] {
        try await api.list("AR/ARInvoiceBatches", filter: "BatchStatus eq 'Open'")
    }

    public func openReceiptBatches() async throws(SageError) -> [SageARReceiptBatch] {
        try await api.list("AR/ARReceiptAndAdjustmentBatches", filter: "BatchRecordType eq 'CA' and BatchStatus eq 'Open'")
    }

    public func createInvoiceBatch(_ batch: SageARInvoiceBatch) async throws(SageError) -> SageARInvoiceBatch {
        let answer = try await transport.send("POST", "AR/ARInvoiceBatches", body: try SageMasterDataClient.encode(batch))
        return try transport.decode(SageARInvoiceBatch.self, from: answer, what: "created AR invoice batch")
    }

    public func createReceiptBatch(_ batch: SageARReceiptBatch) async throws(SageError) -> SageARReceiptBatch {
        let answer = try await transport.send("POST", "AR/ARReceiptAndAdjustmentBatches", body: try SageMasterDataClient.encode(batch))
        return try transport.decode(SageARReceiptBatch.self, from: answer, what: "created AR receipt batch")
    }

    /// Deletes an entered receipt batch (a posted one cannot be: Sage refuses), freeing its check/receipt numbers.
    public func deleteReceiptBatch(_ number: Int64) async throws(SageError) {
        _ = try await transport.send("DELETE", "AR/ARReceiptAndAdjustmentBatches(BatchRecordType='CA',BatchNumber=\(number))")
    }

    public func postInvoiceBatch(_ number: Int64) async throws(SageError) {
        struct Post: Encodable { var BatchNumber: Int64 }
        _ = try await transport.send("POST", "AR/ARPostInvoices", body: try SageMasterDataClient.encode(Post(BatchNumber: number)))
    }

    public func postReceiptBatch(_ number: Int64) async throws(SageError) {
        struct Post: Encodable { var BatchRecordType = "CA", BatchNumber: Int64 }
        _ = try await transport.send("POST", "AR/ARPostReceiptsAndAdjustments", body: try SageMasterDataClient.encode(Post(BatchNumber: number)))
    }
}

/// `AR/ARPostedDocuments`: an invoice, credit note or receipt as posted to a customer's account.
public struct SageARPostedDocument: Sendable, Hashable, Codable {
    public var CustomerNumber: String
    public var DocumentNumber: String
    /// `Invoice`, `CreditNote`, `DebitNote`, `Receipt`, ...
    public var DocumentType: String
    public var DocumentDate: String?
    public var OriginalDocumentAmount: Decimal?
    public var CurrentBalance: Decimal?
    public var CheckReceiptNumber: String?
    public var BatchNumber: Int64?
    public var EntryNumber: Int64?
    public var FullyPaid: String?
    public var Description: String?

    /// The amount in cents, as posted (a receipt or credit note negative).
    public var amountCents: Int64? { OriginalDocumentAmount.flatMap(SageAmount.cents) }
    /// What is still owed on it (a receipt's unapplied rest or an open credit note negative).
    public var balanceCents: Int64? { CurrentBalance.flatMap(SageAmount.cents) }
}

/// `AR/ARInvoiceBatches`: a batch of invoices (and credit notes), each with its details.
public struct SageARInvoiceBatch: Sendable, Hashable, Codable {
    public struct Invoice: Sendable, Hashable, Codable {
        public struct Detail: Sendable, Hashable, Codable {
            public var Description: String
            public var Amount: Decimal
            public init(Description: String, Amount: Decimal) {
                self.Description = Description
                self.Amount = Amount
            }
        }
        public var CustomerNumber: String
        public var DocumentNumber: String
        /// `Invoice` or `CreditNote`.
        public var DocumentType: String
        public var DocumentDate: String
        public var InvoiceDescription: String
        public var InvoiceDetails: [Detail]

        public init(CustomerNumber: String, DocumentNumber: String, DocumentType: String, DocumentDate: String, InvoiceDescription: String,
                    InvoiceDetails: [Detail]) {
            self.CustomerNumber = CustomerNumber
            self.DocumentNumber = DocumentNumber
            self.DocumentType = DocumentType
            self.DocumentDate = DocumentDate
            self.InvoiceDescription = InvoiceDescription
            self.InvoiceDetails = InvoiceDetails
        }
    }
    public var BatchNumber: Int64?
    public var Description: String
    public var BatchStatus: String?
    public var Invoices: [Invoice]

    public init(Description: String, Invoices: [Invoice]) {
        self.Description = Description
        self.Invoices = Invoices
    }
}

/// `AR/ARReceiptAndAdjustmentBatches` with `BatchRecordType` `CA`: receipts, each on a customer's account.
public struct SageARReceiptBatch: Sendable, Hashable, Codable {
    public struct Receipt: Sendable, Hashable, Codable {
        public var CustomerNumber: String
        public var ReceiptDateAdjustmentDate: String
        public var EntryDescription: String
        public var EntryReference: String
        /// Ours: the ticket's number, which the loader looks up before posting.
        public var CheckReceiptNumber: String
        public var BankReceiptAmount: Decimal
        public var CustomerReceiptAmount: Decimal
        public var PaymentCode: String
        public var ReceiptTransactionType: String
        public var DocumentNumber: String?
        /// The documents the receipt pays (Sage's apply-document lines); the rest of the receipt stays unapplied on account.
        public var AppliedReceiptsAdjustments: [Applied]?

        /// One apply-document line: `CustomerReceiptAmount` of the receipt paid to the customer's document `DocumentNumber`.
        public struct Applied: Sendable, Hashable, Codable {
            public var CustomerNumber: String
            public var DocumentNumber: String
            public var CustomerReceiptAmount: Decimal

            public init(CustomerNumber: String, DocumentNumber: String, amountCents: Int64) {
                self.CustomerNumber = CustomerNumber
                self.DocumentNumber = DocumentNumber
                CustomerReceiptAmount = SageAmount.decimal(cents: amountCents)
            }

            public var amountCents: Int64? { SageAmount.cents(CustomerReceiptAmount) }
        }

        public init(CustomerNumber: String, ReceiptDateAdjustmentDate: String, EntryDescription: String, EntryReference: String,
                    CheckReceiptNumber: String, amountCents: Int64, PaymentCode: String, applied: [Applied] = []) {
            AppliedReceiptsAdjustments = applied
            self.CustomerNumber = CustomerNumber
            self.ReceiptDateAdjustmentDate = ReceiptDateAdjustmentDate
            self.EntryDescription = EntryDescription
            self.EntryReference = EntryReference
            self.CheckReceiptNumber = CheckReceiptNumber
            BankReceiptAmount = SageAmount.decimal(cents: amountCents)
            CustomerReceiptAmount = BankReceiptAmount
            self.PaymentCode = PaymentCode
            ReceiptTransactionType = "Receipt"
        }
    }
    public var BatchRecordType: String
    public var BatchNumber: Int64?
    public var BatchStatus: String?
    public var Description: String
    public var ReceiptsAdjustments: [Receipt]

    public init(Description: String, ReceiptsAdjustments: [Receipt]) {
        BatchRecordType = "CA"
        self.Description = Description
        self.ReceiptsAdjustments = ReceiptsAdjustments
    }
}
