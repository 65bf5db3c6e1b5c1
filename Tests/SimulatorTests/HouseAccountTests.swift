import Foundation
import HeartlandSimulator
import SageSimulator
import SimulatorKit
import Testing

/// Issue 23: the simulators' side of on-account sales. Heartland Retail rings a sale on a customer's house account
/// (`On Account`) and a payment on account (`AccountPaymentLine`), only for a customer of the books; Sage 300 posts AR
/// batches (`AR/ARPostInvoices`, `AR/ARPostReceiptsAndAdjustments`) into `AR/ARPostedDocuments`, once.
@Suite struct HouseAccountTests {
    @Test func heartlandRingsSalesAndPaymentsOnAccountForACustomerOnly() async throws {
        let sim = try await HeartlandUnderTest.start()
        defer { Task { await sim.stop() } }
        try await sim.loadDay(stores: 1, tickets: 3)
        let customer = try await sim.call("POST", "/api/customers", ["first_name": "Ada", "last_name": "Byron"], headers: sim.retail)
        let id = try #require(customer.json["id"])
        let sale = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "customer_id": id, "item_lines": [["item_id": 1, "qty": 1, "unit_price": money("20.00")]],
            "payments": [["payment_type": "On Account", "amount": money("20.00")]],
        ], headers: sim.retail)
        #expect(sale.status == 201)
        #expect(sale.json["payments"]?.arrayValue?.first?["payment_type"] == "On Account")
        #expect(sale.json["customer_id"] == id)
        let payment = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "customer_id": id, "account_payment_lines": [["description": "Payment on account", "value": money("15.00")]],
            "payments": [["payment_type": "Cash", "amount": money("15.00")]],
        ], headers: sim.retail)
        #expect(payment.status == 201)
        #expect(payment.json["lines"]?.arrayValue?.first?["type"] == "AccountPaymentLine")
        #expect(payment.json["total"] == money("15.00"))
        let anonymous = try await sim.call("POST", "/api/sales/tickets", [
            "location_id": 1, "item_lines": [["item_id": 1, "qty": 1, "unit_price": money("20.00")]],
            "payments": [["payment_type": "On Account", "amount": money("20.00")]],
        ], headers: sim.retail)
        #expect(anonymous.status == 422)
        #expect(anonymous.json["errors"]?["customer_id"] != nil)
    }

    @Test func sagePostsAnARBatchOnceIntoThePostedDocuments() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        _ = try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": "C1", "CustomerName": "Ada Byron"])
        let batch = try await sage.call("POST", "AR/ARInvoiceBatches", ["Invoices": [[
            "CustomerNumber": "C1", "DocumentNumber": "HL-T41", "DocumentDate": "2026-11-26",
            "InvoiceDetails": [["Description": "Coat", "Amount": money("86.40")]],
        ]]])
        let number = try #require(batch.json["BatchNumber"])
        #expect(try await sage.call("GET", "AR/ARPostedDocuments").json["value"]?.arrayValue?.isEmpty == true, "entered is not posted")
        let posted = try await sage.call("POST", "AR/ARPostInvoices", ["BatchNumber": number])
        #expect(posted.status == 200 && posted.json["BatchStatus"] == "Posted")
        let document = try await sage.call("GET", "AR/ARPostedDocuments(CustomerNumber='C1',DocumentNumber='HL-T41')")
        #expect(document.json["DocumentType"] == "Invoice" && document.json["OriginalDocumentAmount"] == money("86.40"))
        #expect(document.json["DueDate"]?.stringValue?.hasPrefix("2026-12-26") == true)
        #expect(try await sage.call("GET", "AR/ARCustomers('C1')").json["BalanceDueInFunctionalCurrency"] == money("86.40"))
        #expect(try await sage.call("POST", "AR/ARPostInvoices", ["BatchNumber": number]).status == 400, "posted once")
        #expect(try await sage.call("POST", "AR/ARPostedDocuments", ["CustomerNumber": "C1"]).status == 405)

        let receipts = try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", ["ReceiptsAdjustments": [[
            "CustomerNumber": "C1", "BankReceiptAmount": money("86.40"), "CheckReceiptNumber": "HL-T42",
            "AppliedReceiptsAdjustments": [["DocumentNumber": "HL-T41", "CustomerReceiptAmount": money("86.40")]],
        ]]])
        let receiptBatch = try #require(receipts.json["BatchNumber"])
        #expect(try await sage.call("POST", "AR/ARPostReceiptsAndAdjustments", ["BatchRecordType": "CA", "BatchNumber": receiptBatch]).status == 200)
        let paid = try await sage.call("GET", "AR/ARPostedDocuments(CustomerNumber='C1',DocumentNumber='HL-T41')")
        #expect(paid.json["FullyPaid"] == "Yes" && paid.json["CurrentBalance"] == money("0"))
        let listed = try await sage.call("GET", "AR/ARPostedDocuments?$filter=CheckReceiptNumber%20eq%20'HL-T42'")
        #expect(listed.json["value"]?.arrayValue?.first?["DocumentType"] == "Receipt")
        #expect(try await sage.call("GET", "AR/ARCustomers('C1')").json["BalanceDueInFunctionalCurrency"] == money("0"))
    }
}
