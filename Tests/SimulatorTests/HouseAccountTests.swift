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

    /// Sage 300 applies what a receipt names, never better: no more than a document's balance (checked on entry and again on
    /// posting, when another receipt may have paid it), only the receipt's own customer's documents, no more than the
    /// receipt; refused with Sage's error body. An entered batch can be deleted and its receipt number used again.
    @Test func sageAppliesAReceiptOnlyWithinTheBalanceOfTheCustomersOwnDocuments() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        for (customer, number, amount) in [("C1", "HL-T41", "86.40"), ("C2", "HL-T50", "10.00")] {
            _ = try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": .string(customer), "CustomerName": .string("Customer \(customer)")])
            let batch = try await sage.call("POST", "AR/ARInvoiceBatches", ["Invoices": [[
                "CustomerNumber": .string(customer), "DocumentNumber": .string(number), "DocumentDate": "2026-11-26",
                "InvoiceDetails": [["Description": "Coat", "Amount": money(amount)]],
            ]]])
            #expect(try await sage.call("POST", "AR/ARPostInvoices", ["BatchNumber": try #require(batch.json["BatchNumber"])]).status == 200)
        }
        func receipt(_ check: String, _ amount: String, _ applied: [(String, String)]) async throws -> HTTPResult {
            try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", ["ReceiptsAdjustments": [[
                "CustomerNumber": "C1", "BankReceiptAmount": money(amount), "CheckReceiptNumber": .string(check),
                "AppliedReceiptsAdjustments": .array(applied.map { ["DocumentNumber": .string($0.0), "CustomerReceiptAmount": money($0.1)] }),
            ]]])
        }
        func refusal(_ answer: HTTPResult) -> String? {
            guard answer.status == 400, answer.json["error"]?["code"] == "FieldInvalid" else { return nil }
            return answer.json["error"]?["message"]?["value"]?.stringValue
        }
        #expect(refusal(try await receipt("R1", "100.00", [("HL-T41", "90.00")]))?.contains("exceeds the balance 86.40 of document 'HL-T41'") == true)
        #expect(refusal(try await receipt("R1", "10.00", [("HL-T50", "10.00")]))?.contains("'HL-T50' does not exist for customer C1") == true)
        #expect(refusal(try await receipt("R1", "10.00", [("HL-T41", "20.00")]))?.contains("exceed the receipt amount") == true)
        let otherCustomers = try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", ["ReceiptsAdjustments": [[
            "CustomerNumber": "C1", "BankReceiptAmount": money("10.00"), "CheckReceiptNumber": "R1",
            "AppliedReceiptsAdjustments": [["CustomerNumber": "C2", "DocumentNumber": "HL-T50", "CustomerReceiptAmount": money("10.00")]],
        ]]])
        #expect(refusal(otherCustomers)?.contains("of customer C2 cannot be applied to a receipt of customer C1") == true)

        // Two receipts entered against the same balance: the first posted pays it down, the second is refused on posting,
        // and nothing of it is posted.
        let first = try #require(try await receipt("R1", "50.00", [("HL-T41", "50.00")]).json["BatchNumber"])
        let second = try #require(try await receipt("R2", "50.00", [("HL-T41", "50.00")]).json["BatchNumber"])
        #expect(try await sage.call("POST", "AR/ARPostReceiptsAndAdjustments", ["BatchRecordType": "CA", "BatchNumber": first]).status == 200)
        let stale = try await sage.call("POST", "AR/ARPostReceiptsAndAdjustments", ["BatchRecordType": "CA", "BatchNumber": second])
        #expect(refusal(stale)?.contains("applied amount 50.00 exceeds the balance 36.40 of document 'HL-T41'") == true)
        let invoice = try await sage.call("GET", "AR/ARPostedDocuments(CustomerNumber='C1',DocumentNumber='HL-T41')")
        #expect(invoice.json["CurrentBalance"] == money("36.40") && invoice.json["FullyPaid"] == "No")
        #expect(try await sage.call("GET", "AR/ARCustomers('C1')").json["BalanceDueInFunctionalCurrency"] == money("36.40"))
        // The refused batch is deleted and its receipt entered again for what is owed: the invoice is paid.
        #expect(try await sage.call("DELETE", "AR/ARReceiptAndAdjustmentBatches(BatchRecordType='CA',BatchNumber=\(second.int64Value ?? 0))").status < 300)
        let again = try #require(try await receipt("R2", "50.00", [("HL-T41", "36.40")]).json["BatchNumber"])
        #expect(try await sage.call("POST", "AR/ARPostReceiptsAndAdjustments", ["BatchRecordType": "CA", "BatchNumber": again]).status == 200)
        let paid = try await sage.call("GET", "AR/ARPostedDocuments(CustomerNumber='C1',DocumentNumber='HL-T41')")
        #expect(paid.json["CurrentBalance"] == money("0") && paid.json["FullyPaid"] == "Yes")
        let rest = try await sage.call("GET", "AR/ARPostedDocuments?$filter=CheckReceiptNumber%20eq%20'R2'")
        #expect(rest.json["value"]?.arrayValue?.first?["CurrentBalance"] == money("-13.60"), "the rest unapplied on account")
        #expect(try await sage.call("GET", "AR/ARCustomers('C1')").json["BalanceDueInFunctionalCurrency"] == money("-13.60"))
        // A posted batch cannot be deleted.
        #expect(try await sage.call("DELETE", "AR/ARReceiptAndAdjustmentBatches(BatchRecordType='CA',BatchNumber=\(first.int64Value ?? 0))").status == 400)
    }
}
