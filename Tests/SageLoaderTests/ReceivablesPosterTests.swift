import Accounting
import Foundation
import Messaging
import PipelineContracts
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import SageConnector
import Testing
@testable import SageLoader

/// Issue 23: a ticket's AR documents posted to the Sage simulator's AR once, however often they are delivered, and
/// readable at AR/ARPostedDocuments with the customer's balance moved.
extension SageLoaderHandlerTests {
    static func document(_ kind: ReceivableDocument.Kind, ticket: String, cents: Int64) -> ReceivableDocument {
        ReceivableDocument(
            kind: kind, ticketID: TicketID(ticket), ticketNumber: "S01-\(ticket)", customerID: "501", amount: Money(minorUnits: cents, currency: .usd),
            documentDate: try! BusinessDate(parsing: "2026-11-26"), documentNumber: ReceivableDocument.documentNumber(ticket: TicketID(ticket)),
            description: "Heartland store S01 ticket S01-\(ticket)")
    }

    /// sage-pro-sim with the AR and customer clients of the loader.
    static func withAR(_ body: (Sage, SageReceivablesClient, SageMasterDataClient) async throws -> Void) async throws {
        try await withSage { sage in
            let connection = SageConnection(server: sage.running.baseURL, company: "SAMINC", credentials: SageCredentials(user: "ADMIN", password: "pw"),
                                            timeout: .seconds(5))
            try await body(sage, SageReceivablesClient(connection: connection, logger: logger), SageMasterDataClient(connection: connection, logger: logger))
        }
    }

    @Test func anInvoiceAndAReceiptPostOnceAndAreReadableAsPostedDocuments() async throws {
        try await Self.withAR { sage, ar, customers in
            _ = try await customers.createCustomer(["CustomerNumber": "C00501", "CustomerName": "Ada Byron"])
            let poster = ReceivablesPoster(client: ar)

            let invoice = Self.document(.invoice, ticket: "41", cents: 8640)
            let posted = try await poster.post(invoice, customer: "C00501")
            #expect(posted.DocumentType == "Invoice" && posted.DocumentNumber == "HL-T41" && posted.CustomerNumber == "C00501")
            #expect(posted.amountCents == 8640 && posted.DocumentDate?.hasPrefix("2026-11-26") == true)
            // Delivered again: found by its number, nothing new.
            let again = try await poster.post(invoice, customer: "C00501")
            #expect(again == posted)
            // Even for another customer number (a match that came out differently on the second delivery).
            _ = try await customers.createCustomer(["CustomerNumber": "C00999", "CustomerName": "Ada Byron"])
            #expect(try await poster.post(invoice, customer: "C00999").CustomerNumber == "C00501")

            // A batch created before a crash (entered, never posted) is posted, not created a second time.
            let receipt = Self.document(.receipt, ticket: "42", cents: 5000)
            _ = try await ar.createReceiptBatch(SageARReceiptBatch(Description: "crashed", ReceiptsAdjustments: [.init(
                CustomerNumber: "C00501", ReceiptDateAdjustmentDate: "2026-11-26", EntryDescription: "x", EntryReference: "x",
                CheckReceiptNumber: "HL-T42", amountCents: 5000, PaymentCode: "CASH")]))
            #expect(try await poster.posted(receipt) == nil, "entered is not posted")
            let paid = try await poster.post(receipt, customer: "C00501")
            #expect(paid.DocumentType == "Receipt" && paid.CheckReceiptNumber == "HL-T42" && paid.amountCents == -5000)
            #expect(try await ar.openReceiptBatches().isEmpty)

            let documents = try await ar.postedDocuments(customer: "C00501")
            #expect(documents.count == 2)
            #expect(documents.compactMap(\.amountCents).reduce(0, +) == 8640 - 5000)
            let balance = try await customerBalance(sage, "C00501")
            #expect(balance == Decimal(string: "36.4"))
        }
    }

    /// A payment on account applied as Sage 300 applies a receipt: the oldest open invoice first, each up to its balance,
    /// the rest on account; once, however often it is delivered; an entered batch whose invoice another receipt paid
    /// meanwhile is deleted and applied afresh, never posted over the balance.
    @Test func aReceiptIsAppliedToTheOldestOpenInvoicesOnce() async throws {
        try await Self.withAR { sage, ar, customers in
            _ = try await customers.createCustomer(["CustomerNumber": "C00501", "CustomerName": "Ada Byron"])
            let poster = ReceivablesPoster(client: ar)
            var older = Self.document(.invoice, ticket: "40", cents: 2000)
            older.documentDate = try BusinessDate(parsing: "2026-11-25")
            _ = try await poster.post(Self.document(.invoice, ticket: "41", cents: 8640), customer: "C00501")
            _ = try await poster.post(older, customer: "C00501")
            func balance(_ number: String) async throws -> Int64? {
                try await ar.postedDocuments(number: number, receipt: false).first?.balanceCents
            }

            let receipt = Self.document(.receipt, ticket: "42", cents: 5000)
            // The batch's own invoice HL-T47 is not in Sage yet: the receipt waits for it, entering nothing.
            await #expect(throws: StageError.self, "waits for the batch's invoice") {
                try await poster.post(receipt, customer: "C00501", after: ["HL-T47"])
            }
            #expect(try await ar.openReceiptBatches().isEmpty, "nothing entered while it waits")
            let posted = try await poster.post(receipt, customer: "C00501", after: ["HL-T41"])
            #expect(ReceivablesPoster.applicationSummary(posted) == "; 50.00 applied to open invoices, 0.00 unapplied on account")
            #expect(try await balance("HL-T40") == 0, "the older invoice paid first")
            #expect(try await balance("HL-T41") == 5640)
            // Delivered again: found, not applied a second time.
            #expect(try await poster.post(receipt, customer: "C00501") == posted)
            #expect(try await balance("HL-T41") == 5640)

            // A receipt entered with its application before a crash; meanwhile another receipt pays the invoice.
            let crashed = try await ar.createReceiptBatch(SageARReceiptBatch(Description: "crashed", ReceiptsAdjustments: [.init(
                CustomerNumber: "C00501", ReceiptDateAdjustmentDate: "2026-11-26", EntryDescription: "x", EntryReference: "x",
                CheckReceiptNumber: "HL-T43", amountCents: 6000, PaymentCode: "CASH",
                applied: [.init(CustomerNumber: "C00501", DocumentNumber: "HL-T41", amountCents: 5640)])]))
            _ = try await poster.post(Self.document(.receipt, ticket: "44", cents: 5640), customer: "C00501")
            #expect(try await balance("HL-T41") == 0)
            let late = Self.document(.receipt, ticket: "43", cents: 6000)
            await #expect(throws: StageError.self, "Sage refuses the stale batch; it is deleted") { try await poster.post(late, customer: "C00501") }
            #expect(try await ar.openReceiptBatches().contains { $0.BatchNumber == crashed.BatchNumber } == false)
            let applied = try await poster.post(late, customer: "C00501")
            #expect(ReceivablesPoster.applicationSummary(applied) == "; 0.00 applied to open invoices, 60.00 unapplied on account")
            #expect(try await balance("HL-T41") == 0)
            #expect(try await customerBalance(sage, "C00501") == Decimal(string: "-60"))
        }
    }

    /// The batch reconciliation's read of Sage AR: each expected document under its number and the customer the link
    /// names, and a document Sage holds numbered for another of the journal's tickets (keyed by hand) as not the day's.
    @Test func theBatchReconciliationReadsSageARForTheJournalsTickets() async throws {
        try await Self.withAR { _, ar, customers in
            _ = try await customers.createCustomer(["CustomerNumber": "SAGE-ADA", "CustomerName": "Ada Byron"])
            let poster = ReceivablesPoster(client: ar)
            let invoice = Self.document(.invoice, ticket: "41", cents: 8640)
            _ = try await poster.post(invoice, customer: "SAGE-ADA")
            _ = try await poster.post(Self.document(.invoice, ticket: "45", cents: 100), customer: "SAGE-ADA")
            var journal = try Self.document(reference: "HL-AR-1")
            journal.documents = ["41", "45", "46"]
            journal.receivables = [ExpectedReceivable(document: invoice, customerNumber: "C00501"),
                                   ExpectedReceivable(document: Self.document(.receipt, ticket: "46", cents: 500), customerNumber: "C00501")]
            let reader = ReceivablesReadBack(client: ar, link: { $0 == "C00501" ? "SAGE-ADA" : nil })
            let lines = try #require(try await ReceivablesReadBack.compare(journal, reader: reader))
            #expect(lines.map { "\($0.kind.rawValue) \($0.documentNumber) \($0.status.rawValue)" }
                == ["invoice HL-T41 matched", "receipt HL-T46 missing_in_sage", "invoice HL-T45 not_in_day"])
            #expect(lines[0].sageCustomer == "SAGE-ADA" && lines[0].sageCents == 8640)
            // Without a Web API (GL import files) nothing of Sage AR is read: every document is missing.
            let unread = try #require(try await ReceivablesReadBack.compare(journal, reader: nil))
            #expect(unread.allSatisfy { $0.status == .missingInSage })
        }
    }

    /// A batch's tickets are read back from Sage AR a run of numbers at a time (a 50,000-ticket batch was 2,500 queries of
    /// 20 numbers): the documents numbered for the asked numbers come back, each once, and none of the other documents a
    /// range also holds (a number between two asked ones, a longer number between them as text).
    @Test func theDocumentsOfARunOfTicketNumbersAreReadInOneRangeAndNoOtherComesBack() async throws {
        try await Self.withAR { _, ar, customers in
            _ = try await customers.createCustomer(["CustomerNumber": "C00501", "CustomerName": "Ada Byron"])
            let poster = ReceivablesPoster(client: ar)
            for (kind, ticket) in [(ReceivableDocument.Kind.invoice, "98330150201"), (.receipt, "98330150205"), (.invoice, "98330150204"),
                                   (.invoice, "983301502015"), (.invoice, "7")] {
                _ = try await poster.post(Self.document(kind, ticket: ticket, cents: 100), customer: "C00501")
            }
            let asked = ["98330150201", "98330150203", "98330150205", "98330150206", "7", "41"].map { "HL-T\($0)" } + ["HL-TX9"]
            let filters = SageReceivablesClient.numberFilters(asked)
            #expect(filters.count == 2, "one range for the run of four, one query for the three others: \(filters)")
            let found = try await ar.postedDocuments(numbers: asked)
            #expect(found.map { $0.DocumentType == "Receipt" ? "receipt \($0.CheckReceiptNumber ?? "")" : "invoice \($0.DocumentNumber)" }.sorted()
                == ["invoice HL-T7", "invoice HL-T98330150201", "receipt HL-T98330150205"])
        }
    }

    func customerBalance(_ sage: Sage, _ number: String) async throws -> Decimal? {
        var components = URLComponents(url: sage.running.baseURL.appendingPathComponent("Sage300WebApi/v1.0/-/SAMINC/AR/ARCustomers"),
                                       resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "$filter", value: "CustomerNumber eq '\(number)'")]
        var request = URLRequest(url: components.url!)
        request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        let page = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let object = (page?["value"] as? [[String: Any]])?.first
        return (object?["BalanceDueInFunctionalCurrency"] as? NSNumber).map { Decimal(string: $0.stringValue) } ?? nil
    }
}
