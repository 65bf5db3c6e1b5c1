import Foundation
import Testing
@testable import Accounting

/// Issue 23, item 4: a ticket charged to a customer's house account debits AR's control account (not a clearing
/// account) and makes an AR invoice; a payment on account taken at the POS credits it and makes an AR receipt.
@Suite struct OnAccountTests {
    let builder = SettlementJournalBuilder(rules: Fixtures.rules)

    static func ticket(_ id: String, lines: [TicketLine], tenders: [Tender], customer: String? = "501") -> Ticket {
        var ticket = Fixtures.ticket(id, lines: lines, tenders: tenders)
        ticket.customerID = customer
        return ticket
    }

    @Test func aSaleOnAccountDebitsARControlAndMakesAnInvoice() throws {
        let sale = Self.ticket("7", lines: [item(2, 1500), tax(240)], tenders: [.onAccount(amount: usd(3240))])
        let entry = try builder.build(Fixtures.storeDay([sale]))
        #expect(lines(of: entry) == [
            ExpectedLine("1200", .debit, 3240, "Sales on account"), ExpectedLine("4000", .credit, 3000, "Merchandise sales"),
            ExpectedLine("2200", .credit, 240, "Sales tax collected"),
        ])
        let documents = try ReceivableDocument.documents(for: sale, storeID: "S01", timeZone: Fixtures.chicago)
        #expect(documents.count == 1)
        #expect(documents.first?.kind == .invoice && documents.first?.amount == usd(3240) && documents.first?.customerID == "501")
        #expect(documents.first?.documentNumber == "HL-T7" && documents.first?.idempotencyKey == "heartland:ar:invoice:7")
        #expect(documents.first?.documentDate == Fixtures.day)
    }

    @Test func aPaymentOnAccountCreditsARControlAndMakesAReceipt() throws {
        let payment = Self.ticket("8", lines: [.accountPayment(description: "Payment on account", value: usd(5000))], tenders: [cash(5000)])
        let entry = try builder.build(Fixtures.storeDay([payment]))
        #expect(entry.netByAccount == ["1100": 5000, "1200": -5000])
        let documents = try ReceivableDocument.documents(for: payment, storeID: "S01", timeZone: Fixtures.chicago)
        #expect(documents.map(\.kind) == [.receipt] && documents.first?.amount == usd(5000))
    }

    @Test func aReturnToTheAccountIsACreditNoteAndStaysInTheDayJournal() throws {
        let back = Self.ticket("9", lines: [item(-1, 1500), tax(-120)], tenders: [.onAccount(amount: usd(-1620))])
        #expect(!back.postsAsRealTimeRefund)
        let entry = try builder.build(Fixtures.storeDay([back]))
        #expect(entry.netByAccount == ["1200": -1620, "4200": 1500, "2200": 120])
        #expect(try ReceivableDocument.documents(for: back, storeID: "S01", timeZone: Fixtures.chicago).map(\.kind) == [.creditNote])
    }

    @Test func withoutACustomerOrARuleItCannotPost() throws {
        let nobody = Self.ticket("10", lines: [item(1, 1000)], tenders: [.onAccount(amount: usd(1000))], customer: nil)
        #expect(throws: PostingError.self) { try builder.build(Fixtures.storeDay([nobody])) }
        #expect(throws: PostingError.self) { try ReceivableDocument.documents(for: nobody, storeID: "S01", timeZone: Fixtures.chicago) }
        let withoutAR = try MappingRules(yaml: Fixtures.mappingText.replacingOccurrences(of: "accounts_receivable:\n  control: \"1200\"\n", with: ""),
                                         source: "no-ar.yaml")
        #expect(withoutAR.receivablesControl == nil)
        let sale = Self.ticket("11", lines: [item(1, 1000)], tenders: [.onAccount(amount: usd(1000))])
        #expect(throws: PostingError.self) { try SettlementJournalBuilder(rules: withoutAR).build(Fixtures.storeDay([sale])) }
        // A plain cash sale makes no AR document.
        #expect(try ReceivableDocument.documents(for: Self.ticket("12", lines: [item(1, 1000)], tenders: [cash(1000)]), storeID: "S01",
                                                 timeZone: Fixtures.chicago).isEmpty)
    }

    @Test func heartlandJSONReadsTheHouseAccount() throws {
        let json = Data("""
        [{"id": 21, "public_id": "S01-21", "status": "complete", "completed_at": "2026-11-27T18:00:00Z", "customer_id": 501,
          "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "10.00", "discount_amount": "0"}],
          "payments": [{"payment_type": "On Account", "amount": "10.00"}]},
         {"id": 22, "public_id": "S01-22", "status": "complete", "completed_at": "2026-11-27T18:05:00Z", "customer_id": "502",
          "lines": [{"type": "AccountPaymentLine", "description": "Payment on account", "value": "25.00"}],
          "payments": [{"payment_type": "Cash", "amount": "25.00"}]},
         {"id": 23, "public_id": "S01-23", "status": "complete", "completed_at": "2026-11-27T18:06:00Z", "customer_id": 503,
          "lines": [{"type": "ItemLine", "qty": 1, "unit_price": "5.00"}], "payments": [{"payment_type": "Cash", "amount": "5.00"}]}]
        """.utf8)
        let tickets = try HeartlandJSON.tickets(from: json, currency: .usd)
        #expect(tickets[0].tenders == [.onAccount(amount: usd(1000))] && tickets[0].customerID == "501")
        #expect(tickets[1].lines == [.accountPayment(description: "Payment on account", value: usd(2500))] && tickets[1].customerID == "502")
        let records = try HeartlandJSON.ticketRecords(from: json, currency: .usd).map(\.raw)
        #expect(HeartlandJSON.houseAccountCustomerIDs(in: records) == ["501", "502"])
    }
}
