import BookOracle
import Foundation
@testable import HeartlandSimulator
import SimulatorKit
import Testing

/// The oracle checked by hand on a tiny store day, so that agreeing with it means something.
/// Store 1, 2026-11-27, 8 % tax on taxable lines; every expected number is worked out in the comments.
@Suite struct ExpectedBooksTests {
    static let day = "2026-11-27"
    static let batchID = "BAT_20261127_01"

    @Test func cashSaleCreditsRevenueAndTaxAndDebitsCash() {
        // 2 × 10.00 = 20.00 revenue, tax 1.60, cash 21.60.
        let books = ExpectedBooks.settlement(fixture: Self.fixture([cashSale]), locationID: 1, businessDay: Self.day)
        #expect(books == ["4000": -2000, "2200": -160, "1100": 2160])
    }

    @Test func visaSaleWithTipDebitsClearingWithTheTipAndPaysTheBatchFee() {
        // 50.00 + tax 4.00 = 54.00 owed; tip 8.10 inside the 62.10 Visa tender.
        // Fee: 62.10 × 2.60 % = 1.6146 → 1.61, + 0.10 = 1.71; Visa clearing 62.10 − 1.71 = 60.39.
        let books = ExpectedBooks.settlement(fixture: Self.fixture([visaSale], transactions: [visaSaleTransaction]),
                                             locationID: 1, businessDay: Self.day)
        #expect(books == ["4000": -5000, "2200": -400, "2210": -810, "1210": 6039, "6100": 171])
    }

    @Test func lineAndTicketDiscountsDebitSalesDiscountsAtPriceBeforeDiscount() {
        // 30.00 at price before discount, 3.00 line discount, 5.00 coupon: 4100 debited 8.00.
        // Tax 8 % of the discounted line 27.00 = 2.16; Amex tender 30.00 − 8.00 + 2.16 = 24.16.
        // Fee: 24.16 × 3.00 % = 0.7248 → 0.72, + 0.10 = 0.82; Amex clearing 24.16 − 0.82 = 23.34.
        let books = ExpectedBooks.settlement(fixture: Self.fixture([discountedSale], transactions: [amexSaleTransaction]),
                                             locationID: 1, businessDay: Self.day)
        #expect(books == ["4000": -3000, "4100": 800, "2200": -216, "1212": 2334, "6100": 82])
    }

    @Test func giftCardSoldIsALiabilityAndRedeemedReducesIt() {
        // A 50.00 gift card sold for cash: 2300 credited, no revenue. Then 12.00 of untaxed goods paid with a gift card.
        let sold = ExpectedBooks.settlement(fixture: Self.fixture([giftCardSale]), locationID: 1, businessDay: Self.day)
        #expect(sold == ["2300": -5000, "1100": 5000])
        let both = ExpectedBooks.settlement(fixture: Self.fixture([giftCardSale, giftCardRedemption]), locationID: 1, businessDay: Self.day)
        #expect(both == ["2300": -3800, "1100": 5000, "4000": -1200])
    }

    @Test func returnsReverseTheSaleIntoReturnsAndCreditTheRefundedTender() {
        // One of the two 10.00 items of the cash sale back: 4200 10.00, tax 0.80 back, cash 10.80 out.
        let cash = ExpectedBooks.settlement(fixture: Self.fixture([cashReturn]), locationID: 1, businessDay: Self.day)
        #expect(cash == ["4200": 1000, "2200": 80, "1100": -1080])
        // The discounted Amex item back: 4200 at 30.00 before discount, its 3.00 discount credited back to 4100,
        // tax 2.16 back, Amex credited 29.16. A refund carries no processing fee.
        let card = ExpectedBooks.settlement(fixture: Self.fixture([amexReturn], transactions: [amexRefundTransaction]),
                                            locationID: 1, businessDay: Self.day)
        #expect(card == ["4200": 3000, "4100": -300, "2200": 216, "1212": -2916])
    }

    @Test func voidsOtherStoresAndOtherDaysPostNothing() {
        var voided = visaSale
        voided.status = "void"
        var reversed = visaSaleTransaction
        reversed.status = "REVERSED"
        var elsewhere = cashSale
        elsewhere.locationId = 2
        var tomorrow = cashSale
        tomorrow.businessDay = "2026-11-28"
        let books = ExpectedBooks.settlement(fixture: Self.fixture([voided, elsewhere, tomorrow], transactions: [reversed]),
                                             locationID: 1, businessDay: Self.day)
        #expect(books.isEmpty)
    }

    @Test func wholeDayBalancesAndAddsUpTicketByTicket() {
        let tickets = [cashSale, visaSale, discountedSale, giftCardSale, giftCardRedemption, cashReturn, amexReturn]
        let books = ExpectedBooks.settlement(
            fixture: Self.fixture(tickets, transactions: [visaSaleTransaction, amexSaleTransaction, amexRefundTransaction]),
            locationID: 1, businessDay: Self.day)
        #expect(books.values.reduce(0, +) == 0)
        // Ticket by ticket, from the tests above.
        let cash: Int64 = 2160 + 5000 - 1080  // 60.80
        let amex: Int64 = 2334 - 2916  // −5.82
        let tax: Int64 = -160 - 400 - 216 + 80 + 216  // −4.80
        let revenue: Int64 = -2000 - 5000 - 3000 - 1200  // −112.00
        let expected: [String: Int64] = [
            "1100": cash, "1210": 6039, "1212": amex, "2200": tax, "2210": -810, "2300": -3800,
            "4000": revenue, "4100": 800 - 300, "4200": 1000 + 3000, "6100": 171 + 82,
        ]
        #expect(books == expected)
    }

    @Test func brandSpellingsMapToTheirClearingAccounts() {
        #expect(ExpectedBooks.clearingAccount(brand: "VISA") == "1210")
        #expect(ExpectedBooks.clearingAccount(brand: "MASTERCARD") == "1211")
        #expect(ExpectedBooks.clearingAccount(brand: "MC") == "1211")
        #expect(ExpectedBooks.clearingAccount(brand: "Master Card") == "1211")
        #expect(ExpectedBooks.clearingAccount(brand: "AMEX") == "1212")
        #expect(ExpectedBooks.clearingAccount(brand: "American Express") == "1212")
        #expect(ExpectedBooks.clearingAccount(brand: "DISCOVER") == "1213")
        #expect(ExpectedBooks.clearingAccount(brand: "JCB") == "1219")
        #expect(ExpectedBooks.clearingAccount(brand: nil) == "1219")
    }

    @Test func oracleFeeIsTheSimulatorsBatchFee() throws {
        // The oracle's fee rule, written separately, against the fee the simulator puts in its batch JSON.
        let transactions = [visaSaleTransaction, amexSaleTransaction, amexRefundTransaction]
        let rendered = GPRendering.batch(
            SettlementBatch(id: Self.batchID, locationId: 1, businessDay: Self.day, status: "CLOSED", timeCreated: Self.time, timeClosed: nil),
            transactions: transactions, location: nil)
        #expect(rendered["fee_amount"]?.stringValue == "253")
        #expect(transactions.filter { $0.type == "SALE" }.map(ExpectedBooks.processingFee).reduce(0, +) == 253)
    }

    // MARK: the tiny store day

    static let time = Date(timeIntervalSince1970: 1_795_800_000)  // 2026-11-27 midday in the US

    static func fixture(_ tickets: [Ticket], transactions: [CardTransaction] = []) -> StoreDayFixture {
        var fixture = StoreDayFixture()
        fixture.batches = [SettlementBatch(id: batchID, locationId: 1, businessDay: day, status: "OPEN", timeCreated: time, timeClosed: nil)]
        fixture.tickets = tickets
        fixture.transactions = transactions
        return fixture
    }

    var cashSale: Ticket {
        ticket(1, lines: [item(101, qty: 2, price: 1000), tax(102, 160)], payments: [cash(1, 2160)])
    }
    var visaSale: Ticket {
        ticket(2, lines: [item(201, qty: 1, price: 5000), tax(202, 400)],
               payments: [card(2, "VISA", 6210, tip: 810, transaction: "TRN_VISA")])
    }
    var visaSaleTransaction: CardTransaction { transaction("TRN_VISA", "SALE", "VISA", 6210, tip: 810, ticket: 2) }
    var discountedSale: Ticket {
        ticket(3, lines: [item(301, qty: 1, price: 3000, discount: 300), other(302, TicketLine.discount, -500), tax(303, 216)],
               payments: [card(3, "AMEX", 2416, tip: 0, transaction: "TRN_AMEX")])
    }
    var amexSaleTransaction: CardTransaction { transaction("TRN_AMEX", "SALE", "AMEX", 2416, tip: 0, ticket: 3) }
    var giftCardSale: Ticket {
        ticket(4, lines: [other(401, TicketLine.giftCard, 5000, giftCard: "GC1000000000001")], payments: [cash(4, 5000)])
    }
    var giftCardRedemption: Ticket {
        var redemption = ticket(5, lines: [item(501, qty: 1, price: 1200, taxable: false)], payments: [])
        redemption.payments = [TicketPayment(
            id: 50, paymentType: TicketPayment.giftCard, amountCents: 1200, tipCents: 0, cardBrand: nil, last4: "0001",
            authCode: nil, gatewayTransactionId: nil, giftCardNumber: "GC1000000000001")]
        return redemption
    }
    var cashReturn: Ticket {
        ticket(6, returnOf: 1, lines: [item(601, qty: -1, price: 1000), tax(602, -80)], payments: [cash(6, -1080)])
    }
    var amexReturn: Ticket {
        ticket(7, returnOf: 3, lines: [item(701, qty: -1, price: 3000, discount: -300), tax(702, -216)],
               payments: [card(7, "AMEX", -2916, tip: 0, transaction: "TRN_AMEXR")])
    }
    var amexRefundTransaction: CardTransaction {
        var refund = transaction("TRN_AMEXR", "REFUND", "AMEX", 2916, tip: 0, ticket: 7)
        refund.parentResourceId = "TRN_AMEX"
        return refund
    }

    func ticket(_ id: Int64, returnOf: Int64? = nil, lines: [TicketLine], payments: [TicketPayment]) -> Ticket {
        Ticket(id: id, publicId: "S01-20261127-0000\(id)", locationId: 1, stationId: 101, customerId: nil, status: "complete",
               createdAt: Self.time, completedAt: Self.time, businessDay: Self.day, salesRep: "Ava", returnOfTicketId: returnOf,
               lines: lines, payments: payments, updatedAt: Self.time)
    }

    func item(_ id: Int64, qty: Int64, price: Int64, discount: Int64 = 0, taxable: Bool = true) -> TicketLine {
        TicketLine(id: id, type: TicketLine.item, description: "Item \(id)", itemId: id, qty: qty, unitPriceCents: price,
                   originalUnitPriceCents: price, discountCents: discount, valueCents: qty * price - discount, taxable: taxable,
                   giftCardNumber: nil, originalTicketId: nil, originalLineId: nil)
    }

    func tax(_ id: Int64, _ cents: Int64) -> TicketLine { other(id, TicketLine.tax, cents) }

    func other(_ id: Int64, _ type: String, _ cents: Int64, giftCard: String? = nil) -> TicketLine {
        TicketLine(id: id, type: type, description: type, itemId: nil, qty: 1, unitPriceCents: cents, originalUnitPriceCents: cents,
                   discountCents: 0, valueCents: cents, taxable: false, giftCardNumber: giftCard, originalTicketId: nil, originalLineId: nil)
    }

    func cash(_ ticket: Int64, _ cents: Int64) -> TicketPayment {
        TicketPayment(id: ticket * 10, paymentType: TicketPayment.cash, amountCents: cents, tipCents: 0, cardBrand: nil, last4: nil,
                      authCode: nil, gatewayTransactionId: nil, giftCardNumber: nil)
    }

    func card(_ ticket: Int64, _ brand: String, _ cents: Int64, tip: Int64, transaction: String) -> TicketPayment {
        TicketPayment(id: ticket * 10, paymentType: TicketPayment.card, amountCents: cents, tipCents: tip, cardBrand: brand,
                      last4: "4242", authCode: "A1B2C3", gatewayTransactionId: transaction, giftCardNumber: nil)
    }

    func transaction(_ id: String, _ type: String, _ brand: String, _ cents: Int64, tip: Int64, ticket: Int64) -> CardTransaction {
        CardTransaction(id: id, locationId: 1, batchId: Self.batchID, type: type, status: "CAPTURED", amountCents: cents,
                        gratuityCents: tip, currency: "USD", brand: brand, first6: "424242", last4: "4242", entryMode: "CHIP",
                        authCode: "A1B2C3", reference: "S01-\(ticket)", parentResourceId: nil, ticketId: ticket, timeCreated: Self.time)
    }
}
