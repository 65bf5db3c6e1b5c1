import Accounting
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SageConnector
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

    @Test func anInvoiceAndAReceiptPostOnceAndAreReadableAsPostedDocuments() async throws {
        try await Self.withSage { sage in
            let connection = SageConnection(server: sage.running.baseURL, company: "SAMINC", credentials: SageCredentials(user: "ADMIN", password: "pw"),
                                            timeout: .seconds(5))
            let ar = SageReceivablesClient(connection: connection, logger: Self.logger)
            let customers = SageMasterDataClient(connection: connection, logger: Self.logger)
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
