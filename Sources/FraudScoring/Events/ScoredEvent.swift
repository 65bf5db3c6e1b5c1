import Accounting
import BridgeClock
import Foundation

/// One thing the fraud scorer judges: a card sale, refund, void or declined authorisation at a store's
/// terminal, reduced to what the bridge may hold (a card token, never a card number).
public struct ScoredEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case sale, refund, void, decline
    }

    /// How the card was read. Keyed entry is the one a fraudster with a list of numbers uses.
    public enum EntryMode: String, Codable, Sendable, CaseIterable {
        case chip, contactless, swipe, keyed, none

        /// Maps GP-API's `entry_mode` spellings (`CHIP`, `CONTACTLESS_CHIP`, `SWIPE`, `MANUAL`, `KEYED`, …).
        public init(heartland value: String?) {
            switch value?.uppercased() ?? "" {
            case "CHIP", "EMV", "DIP": self = .chip
            case "CONTACTLESS_CHIP", "CONTACTLESS", "CONTACTLESS_SWIPE", "TAP", "PROXIMITY": self = .contactless
            case "SWIPE", "MAG_STRIPE", "MAGSTRIPE": self = .swipe
            case "MANUAL", "KEYED", "MOTO", "ECOM": self = .keyed
            default: self = .none
            }
        }
    }

    /// The tender the money moved on. Cash events have no card token.
    public enum Tender: String, Codable, Sendable, CaseIterable {
        case card, cash, giftCard = "gift_card"
    }

    /// The sale a refund points at, as Heartland links it (`parent_resource_id`, `returnOfTicketId`).
    public struct OriginalSale: Codable, Sendable, Hashable {
        public var id: String
        public var amountCents: Int64
        public var cardToken: CardToken?
        public var tenderMix: TenderMix

        public init(id: String, amountCents: Int64, cardToken: CardToken?, tenderMix: TenderMix) {
            self.id = id
            self.amountCents = amountCents
            self.cardToken = cardToken
            self.tenderMix = tenderMix
        }
    }

    /// A unique id (the GP-API transaction id, or `ticket:<id>:void` and the like).
    public var id: String
    public var kind: Kind
    public var store: StoreID
    /// The terminal (GP-API device id or Retail station id).
    public var terminal: String
    /// The clerk (Retail sales rep / operator); nil when the source does not say.
    public var clerk: String?
    public var tender: Tender
    public var cardToken: CardToken?
    public var entryMode: EntryMode
    /// Positive for every kind: a refund of $12.00 is 1200.
    public var amountCents: Int64
    public var occurredAt: Date
    /// The store's IANA time zone, so "outside hours" means the store's own clock.
    public var timeZone: String
    public var originalSale: OriginalSale?

    public init(
        id: String, kind: Kind, store: StoreID, terminal: String, clerk: String?, tender: Tender, cardToken: CardToken?,
        entryMode: EntryMode, amountCents: Int64, occurredAt: Date, timeZone: String, originalSale: OriginalSale? = nil
    ) {
        self.id = id
        self.kind = kind
        self.store = store
        self.terminal = terminal
        self.clerk = clerk
        self.tender = tender
        self.cardToken = cardToken
        self.entryMode = entryMode
        self.amountCents = amountCents
        self.occurredAt = occurredAt
        self.timeZone = timeZone
        self.originalSale = originalSale
    }

    public var zone: TimeZone { WallClock.zone(named: timeZone) }

    /// Local wall-clock time at the store: (YYYY-MM-DD, minute of the day).
    public var localTime: (day: String, minuteOfDay: Int) {
        let clock = WallClock(of: occurredAt, inZoneNamed: timeZone)
        return (clock.isoDay, clock.minuteOfDay)
    }
}

/// A card's identity for velocity and linkage: the gateway's token when there is one, else brand,
/// first six and last four (`VISA:424242******4242`). Never built from a full card number.
public struct CardToken: Codable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public init(brand: String, first6: String?, last4: String?) {
        rawValue = "\(brand.uppercased()):\(first6 ?? "??????")******\(last4 ?? "????")"
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// How a sale was paid, in cents per tender; compared with a refund's tender to catch split-tender abuse.
public struct TenderMix: Codable, Sendable, Hashable {
    public var cardCents: Int64
    public var cashCents: Int64
    public var giftCardCents: Int64

    public init(cardCents: Int64 = 0, cashCents: Int64 = 0, giftCardCents: Int64 = 0) {
        self.cardCents = cardCents
        self.cashCents = cashCents
        self.giftCardCents = giftCardCents
    }

    public func cents(on tender: ScoredEvent.Tender) -> Int64 {
        switch tender {
        case .card: return cardCents
        case .cash: return cashCents
        case .giftCard: return giftCardCents
        }
    }
}
