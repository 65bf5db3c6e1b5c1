import Foundation
import Testing
@testable import Accounting

/// JSON as heartland-sim serves it (see docs/SIMULATORS.md), read into the domain model.
@Suite struct HeartlandJSONTests {
    static let batchJSON = """
    {"id": "BAT_20261127_01", "batch_id": "BAT_20261127_01", "status": "CLOSED", "amount": "1390",
     "transaction_count": 2, "count": 2, "currency": "USD", "business_day": "2026-11-27", "location_id": 1,
     "sales": {"count": 1, "amount": "2390"}, "refunds": {"count": 1, "amount": "1000"},
     "gratuity_amount": "300", "fee_amount": "72",
     "brand_breakdown": [
       {"brand": "AMEX", "count": 1, "amount": "-1000", "sales": {"count": 0, "amount": "0"},
        "refunds": {"count": 1, "amount": "1000"}, "gratuity_amount": "0", "fee_amount": "0"},
       {"brand": "VISA", "count": 1, "amount": "2390", "sales": {"count": 1, "amount": "2390"},
        "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": "300", "fee_amount": "72"}]}
    """

    static let ticketsJSON = """
    {"total": 2, "pages": 1, "per_page": 20, "page": 1, "results": [
     {"id": 1001, "public_id": "S01-20261127-00001", "status": "complete", "location_id": 1,
      "completed_at": "2026-11-27T15:00:00Z", "business_day": "2026-11-27", "return_of_ticket_id": null,
      "lines": [
        {"id": 100100, "type": "ItemLine", "description": "Cotton T-shirt", "item_id": 1, "qty": 1,
         "unit_price": 19.99, "original_unit_price": 19.99, "discount_amount": 0, "value": 19.99, "taxable": true},
        {"id": 100101, "type": "TaxLine", "description": "Sales Tax", "qty": 1, "unit_price": 0.91, "discount_amount": 0,
         "value": 0.91, "taxable": false}],
      "payments": [{"id": 10010, "payment_type": "Credit Card", "amount": 23.9, "tip_amount": 3,
                    "card_type": "VISA", "last4": "4242", "gateway_transaction_id": "TRN_X1", "gift_card_number": null}]},
     {"id": 1002, "public_id": "S01-20261127-00002", "status": "complete", "location_id": 1,
      "completed_at": "2026-11-27T16:00:00.250Z", "return_of_ticket_id": 990,
      "lines": [{"id": 100200, "type": "ItemLine", "description": "Mug", "qty": -1, "unit_price": "$10.00",
                 "discount_amount": 0, "value": -10}],
      "payments": [{"id": 10020, "payment_type": "Credit Card", "amount": -10, "tip_amount": 0, "card_type": "American Express"}]}
    ]}
    """

    @Test func batchReadsTotalsAndBrands() throws {
        let batch = try HeartlandJSON.settlementBatch(from: Data(Self.batchJSON.utf8))
        #expect(batch.id == "BAT_20261127_01")
        #expect(batch.businessDate == Fixtures.day)
        #expect(batch.totals == CardTotals(transactionCount: 2, salesCount: 1, sales: usd(2390), refundsCount: 1,
                                           refunds: usd(1000), tips: usd(300), fees: usd(72)))
        #expect(batch.brands.map(\.brand) == ["AMEX", "VISA"])
        #expect(batch.brands[0].totals.refunds == usd(1000))
    }

    @Test func ticketsReadLinesTendersAndRepairAmountStrings() throws {
        let tickets = try HeartlandJSON.tickets(from: Data(Self.ticketsJSON.utf8), currency: .usd)
        #expect(tickets.count == 2)
        #expect(tickets[0].lines == [item(1, 1999, "Cotton T-shirt"), tax(91)])
        #expect(tickets[0].tenders == [.card(brand: "VISA", amount: usd(2390), tip: usd(300), transactionID: "TRN_X1")])
        #expect(tickets[1].returnOf == "990")
        #expect(tickets[1].lines == [item(-1, 1000, "Mug")])
        #expect(tickets[1].tenders == [card("American Express", -1000)])
    }

    @Test func simulatorShapedDayBuildsTheExpectedJournal() throws {
        let batch = try HeartlandJSON.settlementBatch(from: Data(Self.batchJSON.utf8))
        let tickets = try HeartlandJSON.tickets(from: Data(Self.ticketsJSON.utf8), currency: .usd)
        let entry = try SettlementJournalBuilder(rules: Fixtures.rules).build(Fixtures.storeDay(tickets, batch: batch))
        // Visa 23.90 − fee 0.72; Amex −10.00; revenue 19.99; returns 10.00; tax 0.91; tips 3.00; fees 0.72.
        #expect(entry.netByAccount == ["1210": 2318, "1212": -1000, "4000": -1999, "4200": 1000, "2200": -91, "2210": -300, "6100": 72])
    }

    @Test func unknownPaymentTypeIsAPermanentErrorNamingTheRecord() {
        let json = Self.ticketsJSON.replacingOccurrences(of: "\"payment_type\": \"Credit Card\", \"amount\": 23.9", with: "\"payment_type\": \"Bitcoin\", \"amount\": 23.9")
        #expect(throws: HeartlandDataError(record: "ticket 1001", field: "payments[0].payment_type",
                                           problem: "\"Bitcoin\" is not Cash, Credit Card, Gift Card or On Account")) {
            try HeartlandJSON.tickets(from: Data(json.utf8), currency: .usd)
        }
    }

    @Test func fractionOfACentIsRejected() {
        let json = Self.ticketsJSON.replacingOccurrences(of: "\"unit_price\": 19.99", with: "\"unit_price\": 19.999")
        #expect(throws: HeartlandDataError.self) { try HeartlandJSON.tickets(from: Data(json.utf8), currency: .usd) }
    }

    @Test func payRunReadsTheSimulatorShape() throws {
        let json = """
        {"run_id": "PR_20261127", "pay_group_id": "WEEKLY", "check_date": "11/27/2026", "status": "PROCESSED",
         "paychecks": [{"employee_id": "EMP0101", "employee_number": "0101", "name": "Ava Kim", "location_id": 1,
           "gross": 800, "net": 567.46,
           "earnings": [{"pay_code": "REG", "hours": 40, "amount": 800}],
           "taxes": [{"code": "FIT", "type": "EMPLOYEE", "amount": 73.1}, {"code": "SIT", "type": "EMPLOYEE", "amount": 29.24},
                     {"code": "SS", "type": "EMPLOYEE", "amount": 49.6}, {"code": "MED", "type": "EMPLOYEE", "amount": 11.6},
                     {"code": "SS", "type": "EMPLOYER", "amount": 49.6}, {"code": "MED", "type": "EMPLOYER", "amount": 11.6},
                     {"code": "FUTA", "type": "EMPLOYER", "amount": 4.8}, {"code": "SUI", "type": "EMPLOYER", "amount": 21.6}],
           "deductions": [{"code": "401K", "description": "401(k) 3%", "pre_tax": true, "amount": 24},
                          {"code": "MED125", "description": "Medical plan", "pre_tax": true, "amount": 45}]}]}
        """
        let run = try HeartlandJSON.payRun(from: Data(json.utf8), currency: .usd)
        #expect(run == PayrollJournalTests.run([PayrollJournalTests.paycheck()]))
        let entry = try PayrollJournalBuilder(rules: Fixtures.rules).build(run)
        #expect(entry.totalDebits == 88760)
    }
}
