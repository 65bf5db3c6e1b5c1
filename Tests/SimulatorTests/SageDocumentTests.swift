import Foundation
import SageSimulator
import SimulatorKit
import TestPrograms
import Testing

/// Sage AR, IC and OE resources, and the GL import folder.
@Suite struct SageDocumentTests {
    @Test func customersReceiptsAndCreditNotes() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        let customer = try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": "WALKIN", "CustomerName": "Walk-in sales", "PhoneNumber": "555-0100"])
        #expect(customer.status == 201)
        #expect(customer.json["Status"] == "Active")
        #expect(try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": "WALKIN", "CustomerName": "x"]).status == 409)
        let missingName = try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": "X1"])
        #expect(missingName.status == 400)
        #expect(missingName.json["error"]?["code"] == "FieldInvalid")
        let patched = try await sage.call("PATCH", "AR/ARCustomers('WALKIN')", ["Email": "store@example.com"])
        #expect(patched.json["Email"] == "store@example.com")
        #expect(try await sage.call("GET", "AR/ARCustomers('WALKIN')").json["Email"] == "store@example.com")

        let receipt: JSONValue = ["Description": "Deposit", "ReceiptsAdjustments": [["CustomerNumber": "WALKIN", "BankReceiptAmount": money("125.50"), "CheckReceiptNumber": "DEP-1"]]]
        let created = try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", receipt)
        #expect(created.status == 201)
        #expect(created.json["BatchTotal"] == .number(Decimal(string: "125.5")!))
        let batchNumber = try #require(created.json["BatchNumber"]?.int64Value)
        #expect(try await sage.call("GET", "AR/ARReceiptAndAdjustmentBatches(BatchRecordType='CA',BatchNumber=\(batchNumber))").status == 200)
        let again = try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", receipt)
        #expect(again.status == 409)
        #expect(again.json["error"]?["code"] == "RecordDuplicate")
        let unknown = try await sage.call("POST", "AR/ARReceiptAndAdjustmentBatches", ["ReceiptsAdjustments": [["CustomerNumber": "NOPE", "BankReceiptAmount": 1]]])
        #expect(unknown.status == 400)

        let credit = try await sage.call("POST", "AR/ARInvoiceBatches", ["Invoices": [[
            "CustomerNumber": "WALKIN", "DocumentType": "CreditNote", "DocumentNumber": "CN-R1",
            "InvoiceDetails": [["Description": "Return", "Amount": money("19.99")]],
        ]]])
        #expect(credit.status == 201)
        #expect(credit.json["BatchTotal"] == .number(Decimal(string: "-19.99")!))
        let duplicateCredit = try await sage.call("POST", "AR/ARInvoiceBatches", ["Invoices": [[
            "CustomerNumber": "WALKIN", "DocumentType": "CreditNote", "DocumentNumber": "CN-R1", "InvoiceDetails": [["Amount": 1]],
        ]]])
        #expect(duplicateCredit.status == 409)
    }

    @Test func itemsAndLocationQuantities() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        #expect(try await sage.call("POST", "IC/ICItems", ["ItemNumber": "A-100", "Description": "T-shirt"]).status == 201)
        #expect(try await sage.call("POST", "IC/ICLocationDetails", ["ItemNumber": "NOPE", "Location": "1"]).status == 400)
        let detail = try await sage.call("POST", "IC/ICLocationDetails", ["ItemNumber": "A-100", "Location": "1", "QuantityOnHand": 10, "QuantityCommitted": 2])
        #expect(detail.status == 201)
        #expect(detail.json["QuantityAvailable"] == 8)
        let adjusted = try await sage.call("PATCH", "IC/ICLocationDetails(ItemNumber='A-100',Location='1')", ["QuantityAdjustment": -3])
        #expect(adjusted.json["QuantityOnHand"] == 7)
        #expect(adjusted.json["QuantityAvailable"] == 5)
        let listed = try await sage.call("GET", "IC/ICLocationDetails?$filter=ItemNumber%20eq%20'A-100'%20and%20Location%20eq%20'1'")
        #expect(listed.json["value"]?.arrayValue?.count == 1)
    }

    @Test func salesOrdersCanBePolledForChanges() async throws {
        let sage = try await SageUnderTest.start()
        defer { Task { await sage.stop() } }
        _ = try await sage.call("POST", "AR/ARCustomers", ["CustomerNumber": "C1", "CustomerName": "Customer one"])
        _ = try await sage.call("POST", "IC/ICItems", ["ItemNumber": "A-1", "Description": "Mug"])
        let order = try await sage.call("POST", "OE/OEOrders", ["CustomerNumber": "C1", "OrderDetails": [["Item": "A-1", "QuantityOrdered": 3, "PricingUnitPrice": money("4.25")]]])
        #expect(order.status == 201)
        #expect(order.json["OrderTotal"] == .number(Decimal(string: "12.75")!))
        let key = try #require(order.json["OrderUniquifier"]?.int64Value)
        let stamp = try #require(order.json["DateLastEdited"]?.stringValue)
        let unchanged = try await sage.call("GET", "OE/OEOrders?$filter=DateLastEdited%20gt%20'\(stamp)'")
        #expect(unchanged.json["value"]?.arrayValue?.isEmpty == true)
        try await Task.sleep(for: .milliseconds(5))
        let updated = try await sage.call("PATCH", "OE/OEOrders(\(key))", ["OrderDescription": "rush", "OrderDetails": [["Item": "A-1", "QuantityOrdered": 1, "PricingUnitPrice": money("4.25")]]])
        #expect(updated.json["OrderTotal"] == .number(Decimal(string: "4.25")!))
        let changed = try await sage.call("GET", "OE/OEOrders?$filter=DateLastEdited%20gt%20'\(stamp)'")
        #expect(changed.json["value"]?.arrayValue?.first?["OrderDescription"] == "rush")
        #expect(try await sage.call("POST", "OE/OEOrders", ["CustomerNumber": "C1", "OrderNumber": order.json["OrderNumber"]!]).status == 409)
        #expect(try await sage.call("POST", "OE/OEOrders", ["CustomerNumber": "C1", "OrderDetails": [["Item": "NOPE", "QuantityOrdered": 1, "PricingUnitPrice": 1]]]).status == 400)
    }

    @Test func importFolderProcessesAndRejectsWholeFiles() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gl-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let sage = try await SageUnderTest.start {
            $0.importDirectory = folder.path
            $0.importPollInterval = .milliseconds(20)
        }
        defer { Task { await sage.stop() } }
        let good = SageLedgerTests.entry("IMPORT-1", lines: [("1100", "5.00"), ("4000", "-5.00")])
        try good.serialized().write(to: folder.appendingPathComponent("day1.json"))
        let csv = """
            entry,posting_date,source_type,document_number,entry_description,account,debit,credit,reference,line_description
            1,2026-11-27,JE,CSV-1,Cash sales,1100,10.00,,CSV-1,cash
            1,2026-11-27,JE,CSV-1,Cash sales,4000,,10.00,CSV-1,revenue
            2,2026-11-27,JE,CSV-2,Bad entry,1100,3.00,,CSV-2,cash
            2,2026-11-27,JE,CSV-2,Bad entry,4000,,2.00,CSV-2,revenue

            """
        try Data(csv.utf8).write(to: folder.appendingPathComponent("day2.csv"))
        let processed = folder.appendingPathComponent("processed/day1.json")
        let rejected = folder.appendingPathComponent("rejected/day2.csv")
        try await eventually("import files to be moved") {
            FileManager.default.fileExists(atPath: processed.path) && FileManager.default.fileExists(atPath: rejected.path)
        }
        let reason = try String(contentsOf: URL(fileURLWithPath: rejected.path + ".reason.txt"), encoding: .utf8)
        #expect(reason.contains("out of balance by 1.00"))
        // All or nothing: the balanced first entry of the rejected file was not kept.
        let csvEntries = try await sage.call("GET", "GL/GLJournalHeaders?$filter=DocumentNumber%20eq%20'CSV-1'")
        #expect(csvEntries.json["value"]?.arrayValue?.isEmpty == true)
        let imported = try await sage.call("GET", "GL/GLJournalHeaders?$filter=DocumentNumber%20eq%20'IMPORT-1'")
        #expect(imported.json["value"]?.arrayValue?.first?["EnteredBy"] == "IMPORT")
        #expect(FileManager.default.fileExists(atPath: processed.path + ".result.json"))
    }
}
