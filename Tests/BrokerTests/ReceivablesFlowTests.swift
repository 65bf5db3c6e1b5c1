import AMQP
import Accounting
import Alerter
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Messaging
import PipelineContracts
import SageConnector
import SyncContracts
import TestPrograms
import XCTest

/// Issue 23 through the real processes: heartland-sim → heartland-ingest → transformer → fraud-scorer → sage-loader →
/// sage-pro-sim, and a store the mapping gives no account held with one alert and posted after the fix and a replay.
final class ReceivablesFlowTests: XCTestCase {
    /// A sale on a customer's house account and the customer's payment on account at the POS: the invoice and the receipt
    /// are in Sage AR once, for a Sage customer found or created through the sync's matching; the GL side is on AR's
    /// control account (1200), which nets to what the customer still owes; the day reconciles to the cent.
    func testASaleOnAccountIsInvoicedInSageARAndThePaymentReceipted() async throws {
        let flow = try await BridgeFlow.start()
        try await flow.startHeartland(stores: 1, tickets: 5)
        try await flow.closeBatches()  // the generated day first, so that the tickets rung now open today's batch
        try await eventually(timeout: .seconds(60), "the generated day reconciled") {
            try await OperationsStore(path: flow.operations).reconciliations(businessDate: flow.day).contains { $0.status == .matched }
        }
        let customer = try json(await flow.heartlandAdmin("POST", "api/customers", #"{"first_name":"Ada","last_name":"Byron","email":"ada@example.com"}"#))
        let customerID = try XCTUnwrap(customer["id"] as? Int)
        let customerNumber = try XCTUnwrap(customer["public_id"] as? String)
        let items = try json(await flow.heartlandAdmin("GET", "api/items?per_page=1", nil))
        let item = try XCTUnwrap((items["results"] as? [[String: Any]])?.first?["id"] as? Int)
        func ring(_ body: String) async throws -> [String: Any] { try json(await flow.heartlandAdmin("POST", "api/sales/tickets", body)) }
        // A card sale opens today's batch; the on-account sale (86.40) and the payment on account (50.00, cash) go with it. The
        // receipt waits for the invoice of the same batch and is applied to it: paid down to 36.40.
        let card = #"{"location_id":1,"item_lines":[{"item_id":\#(item),"qty":1,"unit_price":"12.00"}],"payments":[{"payment_type":"Credit Card","amount":"12.00","card_type":"VISA"}]}"#
        _ = try await ring(card)
        let sale = try await ring(#"{"location_id":1,"customer_id":\#(customerID),"item_lines":[{"item_id":\#(item),"qty":1,"unit_price":"80.00"}],"tax_lines":[{"value":"6.40"}],"payments":[{"payment_type":"On Account","amount":"86.40"}]}"#)
        let payment = try await ring(#"{"location_id":1,"customer_id":\#(customerID),"account_payment_lines":[{"description":"Payment on account","value":"50.00"}],"payments":[{"payment_type":"Cash","amount":"50.00"}]}"#)
        let saleID = try XCTUnwrap(sale["id"] as? Int), paymentID = try XCTUnwrap(payment["id"] as? Int)
        let today = try XCTUnwrap(sale["business_day"] as? String)
        try await flow.closeBatches()

        var invoice: [String: Any] = [:], receipt: [String: Any] = [:]
        try await eventually(timeout: .seconds(60), "the invoice and the receipt are posted in Sage AR") {
            // The receipt first: the invoice read after it shows the receipt's application (read before, it may predate it).
            receipt = try await self.sageRows(flow, "AR/ARPostedDocuments", "CheckReceiptNumber eq 'HL-T\(paymentID)'").first ?? [:]
            guard !receipt.isEmpty else { return false }
            invoice = try await self.sageRows(flow, "AR/ARPostedDocuments", "DocumentNumber eq 'HL-T\(saleID)'").first ?? [:]
            return !invoice.isEmpty
        }
        // Applied as Sage 300 applies a receipt: the open invoice paid down by 50.00, nothing left unapplied.
        XCTAssertEqual(cents(invoice["CurrentBalance"]), 3640, "the invoice paid down by the receipt")
        XCTAssertEqual(invoice["FullyPaid"] as? String, "No")
        XCTAssertEqual(cents(receipt["CurrentBalance"]), 0, "the whole receipt applied")
        XCTAssertEqual(receipt["FullyPaid"] as? String, "Yes")
        XCTAssertEqual(invoice["DocumentType"] as? String, "Invoice")
        XCTAssertEqual(cents(invoice["OriginalDocumentAmount"]), 8640)
        XCTAssertEqual(receipt["DocumentType"] as? String, "Receipt")
        XCTAssertEqual(cents(receipt["OriginalDocumentAmount"]), -5000)
        // The customer was created in Sage by the sync's matching (no twin there), numbered like Heartland's.
        let sageCustomer = customerNumber.uppercased()
        XCTAssertEqual(invoice["CustomerNumber"] as? String, sageCustomer)
        XCTAssertEqual(receipt["CustomerNumber"] as? String, sageCustomer)
        let owed = try await sageRows(flow, "AR/ARCustomers", "CustomerNumber eq '\(sageCustomer)'").first
        XCTAssertEqual(cents(owed?["BalanceDueInFunctionalCurrency"]), 3640)

        try await eventually(timeout: .seconds(60), "the receipt's application in the audit trail") {
            try await OperationsStore(path: flow.operations).auditEvents().contains {
                $0.detail.contains("check/receipt HL-T\(paymentID); 50.00 applied to open invoices, 0.00 unapplied on account")
            }
        }
        // GL: AR's control account carries the same 36.40 for the day, and the day's batches reconcile to the cent.
        var control: Int64 = 0
        try await eventually(timeout: .seconds(60), "today's batch posted and reconciled") {
            control = try await self.sageRows(flow, "GL/GLJournalDetails", "AccountNumber eq '1200'").reduce(Int64(0)) { $0 + (self.cents($1["Amount"]) ?? 0) }
            let reports = try await OperationsStore(path: flow.operations).reconciliations(businessDate: today)
            let arDocuments = reports.flatMap { $0.receivables ?? [] }
            return control == 3640 && arDocuments.count == 2 && reports.allSatisfy { $0.status == .matched }
        }
        XCTAssertEqual(control, 3640, "AR control debited 86.40 on account, credited 50.00 paid")
        let reports = try await OperationsStore(path: flow.operations).reconciliations(businessDate: today)
        XCTAssertTrue(reports.allSatisfy { $0.status == .matched }, "\(reports.map { "\($0.reference): \($0.status)" })")
        // The batch reconciliation found each on-account ticket's AR document in Sage AR, for the customer and the amount.
        let arDocuments = reports.flatMap { $0.receivables ?? [] }
        XCTAssertEqual(arDocuments.map { "\($0.kind.rawValue) \($0.documentNumber) \($0.status.rawValue)" }.sorted(),
                       ["invoice HL-T\(saleID) matched", "receipt HL-T\(paymentID) matched"])
        XCTAssertEqual(arDocuments.first { $0.kind == .invoice }?.sageCustomer, customerNumber.uppercased())
        XCTAssertEqual(arDocuments.first { $0.kind == .invoice }?.sageCents, 8640)
        // The invoice's command again under another idempotency key (as if the loader's ledger had lost it): the loader finds
        // the number in Sage's posted documents and writes nothing.
        let again = ReceivableCommand(
            store: .init(id: "S01", timeZone: "America/Chicago", currency: "USD"),
            document: ReceivableDocument(kind: .invoice, ticketID: TicketID(String(saleID)), ticketNumber: String(saleID), customerID: String(customerID),
                                         amount: Money(minorUnits: 8640, currency: .usd), documentDate: try BusinessDate(parsing: today),
                                         documentNumber: "HL-T\(saleID)", description: "a second copy"),
            customer: SyncCustomer(side: .heartland, id: String(customerID), number: customerNumber, firstName: "Ada", lastName: "Byron",
                                   email: "ada@example.com", phone: nil, active: true, version: "again"),
            journalReference: nil)
        let session = try await flow.broker.session()
        try await session.publish([OutgoingMessage(exchange: "bridge.commands", routingKey: again.routingKey, properties: MessageProperties(
            messageID: MessageID.random(), correlationID: "e2e-ar-again", type: again.routingKey,
            headers: [Header.idempotencyKey: .string("e2e:ar:again:\(saleID)")]), body: Array(try JSONEncoder().encode(again)))])
        await session.close()
        try await eventually(timeout: .seconds(60), "the copy seen and skipped") {
            try await OperationsStore(path: flow.operations).auditEvents().contains { $0.detail.contains("already holds invoice HL-T\(saleID)") }
        }
        // Once each, and nothing parked.
        let documents = try await sageRows(flow, "AR/ARPostedDocuments", "CustomerNumber eq '\(sageCustomer)'")
        XCTAssertEqual(documents.count, 2)
        for queue in ["transformer.dlq", "sage-loader.dlq"] {
            let parked = try await flow.depth(queue)
            XCTAssertEqual(parked, 0, queue)
        }

        // A clerk keys an invoice in Sage by hand under the number of the next sale on account, for 1.00 instead of 20.00:
        // the loader does not post a second one, and the batch's reconciliation shows the difference.
        _ = try await ring(card)
        let keyed = try await ring(#"{"location_id":1,"customer_id":\#(customerID),"item_lines":[{"item_id":\#(item),"qty":1,"unit_price":"20.00"}],"payments":[{"payment_type":"On Account","amount":"20.00"}]}"#)
        let keyedID = try XCTUnwrap(keyed["id"] as? Int)
        let entered = try await sagePost(flow, "AR/ARInvoiceBatches", ["Invoices": [[
            "CustomerNumber": sageCustomer, "DocumentNumber": "HL-T\(keyedID)", "DocumentDate": today,
            "InvoiceDetails": [["Description": "keyed by hand", "Amount": 1.00]],
        ]]])
        _ = try await sagePost(flow, "AR/ARPostInvoices", ["BatchNumber": try XCTUnwrap(entered["BatchNumber"])])
        try await flow.closeBatches()
        var differing: ReconciliationReport?
        try await eventually(timeout: .seconds(60), "the batch with the hand-keyed invoice reconciled") {
            differing = try await OperationsStore(path: flow.operations).reconciliations(businessDate: today).first {
                $0.receivables?.contains { $0.documentNumber == "HL-T\(keyedID)" } == true && $0.status != .incomplete
            }
            return differing != nil
        }
        XCTAssertEqual(differing?.status, .mismatched)
        XCTAssertEqual(differing?.differences.count, 0, "the GL side matches")
        let keyedLine = differing?.receivables?.first { $0.documentNumber == "HL-T\(keyedID)" }
        XCTAssertEqual(keyedLine?.status, .amountDiffers)
        XCTAssertEqual(keyedLine?.expectedCents, 2000)
        XCTAssertEqual(keyedLine?.sageCents, 100)
        XCTAssertTrue(differing?.reason?.contains("AR invoice HL-T\(keyedID)") == true, differing?.reason ?? "")
    }

    /// Posts to a Sage collection (as a clerk would in Sage), returning the created entity.
    func sagePost(_ flow: BridgeFlow, _ resource: String, _ body: [String: Any]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "\(flow.sageURL)/Sage300WebApi/v1.0/-/SAMINC/\(resource)")!)
        request.httpMethod = "POST"
        request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        XCTAssertLessThan(status, 300, String(decoding: data, as: UTF8.self))
        return try json(data)
    }

    /// Revenue named per store, S-HELD's missing: three batches of S-HELD are held in transformer.dlq with one alert
    /// between them, another store posts; with the mapping completed, `bridgectl dlq replay transformer` posts all three.
    func testAStoreWithoutItsAccountIsHeldWithOneAlertAndPostsAfterTheFixAndAReplay() async throws {
        let shipped = try String(contentsOf: repositoryRoot.appendingPathComponent("Config/mapping.yaml"), encoding: .utf8)
        func variant(_ revenue: String) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID().uuidString).yaml")
            try shipped.replacingOccurrences(of: "  revenue: \"4000\"", with: "  revenue: \(revenue)").write(to: path, atomically: true, encoding: .utf8)
            return path.path
        }
        let flow = try await BridgeFlow.start(mapping: try variant(#"{stores: {S-OK: "4000"}}"#))
        let ok = try await flow.publishClosedBatch(store: "S-OK")
        var held: [String] = []
        for _ in 0..<3 { held.append(try await flow.publishClosedBatch(store: "S-HELD")) }
        try await eventually(timeout: .seconds(60), "S-OK posted, S-HELD's three batches held") {
            let posted = try await flow.sage.findJournal(reference: ok) != nil
            let parked = try await flow.depth("transformer.dlq")
            return posted && parked == 3
        }
        try await eventually("the alert is in the operations store") {
            try await OperationsStore(path: flow.operations).alertGroups().contains { $0.reason.contains("store S-HELD has no GL account") }
        }
        let groups = try await OperationsStore(path: flow.operations).alertGroups().filter { $0.reason.contains("S-HELD") }
        XCTAssertEqual(groups.count, 1, "\(groups.map(\.reason))")
        XCTAssertEqual(groups.first?.count, 1, "one alert for the store, not one per document")
        XCTAssertTrue(groups.first?.reason.contains("sales.revenue names no account for it") == true)
        for reference in held {
            let posted = try await flow.sage.findJournal(reference: reference)
            XCTAssertNil(posted, "nothing of S-HELD posted")
        }

        try await flow.restartTransformer(mapping: try variant(#"{account: "4000", stores: {S-OK: "4000"}}"#))
        let replay = try WorkerProcess.start(executable: "bridgectl", arguments: ["dlq", "replay", "transformer", "--amqp-url", flow.broker.amqpURL])
        let status = try await replay.waitForExit()
        XCTAssertEqual(status, 0, replay.log)
        try await eventually(timeout: .seconds(60), "S-HELD's batches posted after the replay") {
            for reference in held where try await flow.sage.findJournal(reference: reference) == nil { return false }
            return true
        }
        let parked = try await flow.depth("transformer.dlq")
        XCTAssertEqual(parked, 0)
    }

    func json(_ data: Data) throws -> [String: Any] { try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any]) }

    /// Rows of a Sage collection matching an OData filter.
    func sageRows(_ flow: BridgeFlow, _ resource: String, _ filter: String) async throws -> [[String: Any]] {
        var components = URLComponents(string: "\(flow.sageURL)/Sage300WebApi/v1.0/-/SAMINC/\(resource)")!
        components.queryItems = [URLQueryItem(name: "$filter", value: filter)]
        var request = URLRequest(url: components.url!)
        request.setValue("Basic " + Data("ADMIN:pw".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return try json(data)["value"] as? [[String: Any]] ?? []
    }

    /// A Sage amount (a JSON number of dollars) in cents.
    func cents(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber, let decimal = Decimal(string: number.stringValue) else { return nil }
        return NSDecimalNumber(decimal: decimal * 100).int64Value
    }
}
