import Foundation
import Testing
@testable import Accounting

/// Test helpers: the real mapping file, and terse constructors for hand-written store days.
enum Fixtures {
    static let mappingPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Config/mapping.yaml").path

    static let mappingText: String = try! String(contentsOfFile: mappingPath, encoding: .utf8)

    static let rules: MappingRules = try! MappingRules.load(path: mappingPath)

    static let day = try! BusinessDate(year: 2026, month: 11, day: 27)
    static let chicago = try! StoreTimeZone("America/Chicago")
    static let losAngeles = try! StoreTimeZone("America/Los_Angeles")

    static func instant(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    static func storeDay(_ tickets: [Ticket], batch: SettlementBatch? = nil, zone: StoreTimeZone = chicago,
                         store: StoreID = "1", currency: CurrencyCode = .usd) -> StoreDay {
        StoreDay(storeID: store, timeZone: zone, businessDate: day, currency: currency, batch: batch, tickets: tickets)
    }

    static func ticket(_ id: String, at time: String = "2026-11-27T18:00:00Z", lines: [TicketLine], tenders: [Tender]) -> Ticket {
        Ticket(id: TicketID(id), number: "S01-20261127-\(id)", completedAt: instant(time), lines: lines, tenders: tenders)
    }

    static func batch(_ brands: [(String, sales: Int64, refunds: Int64, tips: Int64, fees: Int64)], id: BatchID = "BAT_20261127_01") -> SettlementBatch {
        let totals = brands.map { brand in
            BrandTotals(brand: brand.0, totals: CardTotals(
                transactionCount: 1, salesCount: 1, sales: usd(brand.sales), refundsCount: brand.refunds == 0 ? 0 : 1,
                refunds: usd(brand.refunds), tips: usd(brand.tips), fees: usd(brand.fees)))
        }
        let sum = { (key: KeyPath<CardTotals, Money>) in usd(totals.reduce(0) { $0 + $1.totals[keyPath: key].minorUnits }) }
        return SettlementBatch(id: id, businessDate: day, totals: CardTotals(
            transactionCount: totals.count, salesCount: totals.count, sales: sum(\.sales),
            refundsCount: totals.filter { !$0.totals.refunds.isZero }.count, refunds: sum(\.refunds), tips: sum(\.tips),
            fees: sum(\.fees)), brands: totals)
    }
}

func usd(_ cents: Int64) -> Money { Money(minorUnits: cents, currency: .usd) }

func item(_ quantity: Int64, _ unitPrice: Int64, discount: Int64 = 0, _ description: String = "item") -> TicketLine {
    .item(description: description, quantity: quantity, unitPrice: usd(unitPrice), discount: usd(discount))
}
func tax(_ cents: Int64) -> TicketLine { .tax(description: "Sales Tax", value: usd(cents)) }
func coupon(_ cents: Int64) -> TicketLine { .discount(description: "Coupon", value: usd(cents)) }
func giftCardSold(_ cents: Int64) -> TicketLine { .giftCardSale(cardNumber: "GC1", value: usd(cents)) }
func cash(_ cents: Int64) -> Tender { .cash(amount: usd(cents)) }
func card(_ brand: String, _ cents: Int64, tip: Int64 = 0) -> Tender {
    .card(brand: brand, amount: usd(cents), tip: usd(tip), transactionID: nil)
}
func giftCard(_ cents: Int64) -> Tender { .giftCard(amount: usd(cents), cardNumber: "GC1") }

/// A journal line written by hand: `("1100", .debit, 2176, "Cash tendered")`.
struct ExpectedLine: Hashable, CustomStringConvertible {
    var account: String
    var side: JournalLine.Side
    var cents: Int64
    var text: String

    init(_ account: String, _ side: JournalLine.Side, _ cents: Int64, _ text: String) {
        (self.account, self.side, self.cents, self.text) = (account, side, cents, text)
    }

    init(_ line: JournalLine) {
        self.init(line.account.rawValue, line.side, line.amount.minorUnits, line.description)
    }

    var description: String { "\(side == .debit ? "Dr" : "Cr") \(account) \(cents) \(text)" }
}

/// The entry's lines, order-insensitive, for comparison with hand-written expectations.
func lines(of entry: JournalEntry) -> Set<ExpectedLine> { Set(entry.lines.map(ExpectedLine.init)) }
