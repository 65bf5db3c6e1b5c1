import Foundation
import Testing

@testable import HeartlandConnector

/// Wire types without a server: exact cents from strings and numbers, unknown enum values kept.
@Suite struct DecodingTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    @Test func minorUnitAmountsAsStringsOrNumbers() throws {
        let json = """
            {"id":"TRN_1","time_created":"2026-11-27T15:00:00Z","type":"SALE","status":"CAPTURED","amount":%@,
             "gratuity_amount":%@,"currency":"USD","batch_id":"BAT_1"}
            """
        for (amount, gratuity, cents, tip) in [("\"2390\"", "\"300\"", Int64(2390), Int64(300)), ("2390", "300", 2390, 300),
                                               ("\"1\"", "null", 1, 0), ("\"999999999999\"", "\"0\"", 999_999_999_999, 0)]
        {
            let text = json.replacingOccurrences(of: "%@", with: amount, options: [], range: json.range(of: "%@"))
                .replacingOccurrences(of: "%@", with: gratuity)
            let t = try decode(CardTransaction.self, text)
            #expect(t.amountCents == cents)
            #expect(t.gratuityCents == tip)
        }
        #expect(throws: DecodingError.self) { try decode(CardTransaction.self, #"{"id":"T","amount":"12.5"}"#) }
        #expect(throws: DecodingError.self) { try decode(CardTransaction.self, #"{"id":"T","amount":"abc"}"#) }
        #expect(throws: DecodingError.self) { try decode(CardTransaction.self, #"{"id":"T"}"#) }
    }

    @Test func dollarAmountsAreExactCents() throws {
        let cases: [(String, Int64)] = [
            ("0.29", 29), ("0.07", 7), ("1234567.89", 123_456_789), ("-19.99", -1999), ("20", 2000), ("\"12.34\"", 1234),
            ("\"1,234.50\"", 123_450), ("0.01", 1), ("92233720368547.75", 9_223_372_036_854_775), ("4.35", 435), ("1.005e2", 10050),
        ]
        for (text, cents) in cases {
            let item = try decode(Item.self, #"{"id":1,"public_id":"A","price":\#(text)}"#)
            #expect(item.priceCents == cents, "\(text)")
        }
        #expect(throws: DecodingError.self) { try decode(Item.self, #"{"id":1,"price":12.345}"#) }
        #expect(throws: DecodingError.self) { try decode(Item.self, #"{"id":1,"price":"twelve"}"#) }
    }

    @Test func unknownEnumValuesAreKeptRaw() throws {
        let t = try decode(CardTransaction.self, """
            {"id":"TRN_1","type":"CAPTURE_ADJUST","status":"SETTLED_LATE","amount":"100",
             "payment_method":{"card":{"brand":"Visa Debit","masked_number_first6last4":"411111XXXXXX1111","authcode":"A1"}}}
            """)
        #expect(t.type.rawValue == "CAPTURE_ADJUST" && !t.type.isKnown)
        #expect(t.status.rawValue == "SETTLED_LATE" && !t.status.isKnown)
        #expect(t.card?.brand.rawValue == "Visa Debit" && t.card?.brand.isKnown == false)
        #expect(t.card?.first6 == "411111" && t.card?.last4 == "1111")
        let line = try decode(TicketLine.self, #"{"id":1,"type":"ServiceLine","value":"5.00","qty":"2"}"#)
        #expect(line.type == "ServiceLine" && !line.type.isKnown && line.qty == 2 && line.valueCents == 500)
    }

    @Test func ticketWithLinesAndTenders() throws {
        let ticket = try decode(Ticket.self, """
            {"id":1001,"public_id":"S01-20261127-00001","status":"complete","location_id":1,"business_day":"2026-11-27",
             "subtotal":19.99,"total_discounts":0,"tax_total":0.91,"gift_card_total":0,"total":20.9,"tip_total":3,"total_paid":23.9,
             "lines":[{"id":1,"type":"ItemLine","item_id":1,"qty":1,"unit_price":19.99,"discount_amount":0,"value":19.99,"taxable":true},
                      {"id":2,"type":"TaxLine","qty":1,"unit_price":0.91,"value":0.91}],
             "payments":[{"id":10,"payment_type":"Credit Card","amount":23.9,"tip_amount":3,"card_type":"VISA","last4":"4242",
                          "gateway_transaction_id":"TRN_X1"}]}
            """)
        #expect(ticket.totalCents == 2090 && ticket.totalPaidCents == 2390 && ticket.tipTotalCents == 300)
        #expect(ticket.lines.map(\.valueCents) == [1999, 91])
        #expect(ticket.payments.first?.paymentType == .creditCard)
        #expect(ticket.payments.first?.cardBrand == .visa)
    }

    @Test func payRunHoursAndAmounts() throws {
        let run = try decode(PayRun.self, """
            {"run_id":"PR_1","status":"OPEN","check_date":"11/27/2026","totals":{"gross":800,"net":610},
             "paychecks":[{"employee_id":"E1","gross":800,"net":610,"earnings":[{"pay_code":"REG","hours":40.25,"amount":800}],
                           "taxes":[{"code":"FIT","type":"EMPLOYEE","amount":80}],"deductions":[{"code":"401K","pre_tax":true,"amount":24}]}]}
            """)
        #expect(run.totals.grossCents == 80000)
        #expect(run.paychecks.first?.earnings.first?.hoursHundredths == 4025)
        #expect(run.paychecks.first?.deductions.first?.preTax == true)
    }

    @Test func retryAfterParsing() {
        #expect(HeartlandError.retryAfter("7") == .seconds(7))
        #expect(HeartlandError.retryAfter(nil) == nil)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(HeartlandError.retryAfter(formatter.string(from: now.addingTimeInterval(30)), now: now) == .seconds(30))
    }

    @Test func errorClassification() {
        let body = Data(#"{"error_code":"NOT_AUTHENTICATED","detailed_error_code":"40001","detailed_error_description":"Invalid access token"}"#.utf8)
        #expect(HeartlandError.from(status: 401, body: body, retryAfterHeader: nil, what: "x") == .unauthorized("x: HTTP 401 NOT_AUTHENTICATED 40001 Invalid access token"))
        #expect(HeartlandError.from(status: 429, body: Data(), retryAfterHeader: "3", what: "x") == .rateLimited(retryAfter: .seconds(3)))
        #expect(HeartlandError.from(status: 504, body: Data(), retryAfterHeader: nil, what: "x").isTransient)
        #expect(!HeartlandError.from(status: 422, body: Data(#"{"message":"Validation failed"}"#.utf8), retryAfterHeader: nil, what: "x").isTransient)
    }
}
