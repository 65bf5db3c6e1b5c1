/// A value from a vocabulary Heartland may extend (transaction type, status, brand, tender...).
/// Unknown spellings decode as their raw string, so a new value never fails a whole page; the
/// transformer decides whether it can repair or must reject it.
public protocol OpenEnum: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral where RawValue == String
{
    init(rawValue: String)
    static var known: Set<Self> { get }
}

extension OpenEnum {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var isKnown: Bool { Self.known.contains(self) }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.init(rawValue: text)
        } else if let number = try? container.decode(Int64.self) {
            self.init(rawValue: String(number))
        } else {
            self.init(rawValue: "")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

public struct TransactionType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let sale: Self = "SALE"
    public static let refund: Self = "REFUND"
    public static let known: Set<Self> = [.sale, .refund]
}

public struct TransactionStatus: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let captured: Self = "CAPTURED"
    public static let batched: Self = "BATCHED"
    public static let reversed: Self = "REVERSED"
    public static let known: Set<Self> = [
        "INITIATED", "AUTHENTICATED", "PENDING", "DECLINED", "PREAUTHORIZED", .captured, .batched, .reversed, "FUNDED",
        "REJECTED",
    ]
}

public struct CardBrand: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let visa: Self = "VISA"
    public static let mastercard: Self = "MASTERCARD"
    public static let amex: Self = "AMEX"
    public static let discover: Self = "DISCOVER"
    public static let known: Set<Self> = [.visa, .mastercard, .amex, .discover, "JCB", "DINERS"]
}

public struct BatchStatus: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let open: Self = "OPEN"
    public static let closed: Self = "CLOSED"
    public static let known: Set<Self> = [.open, .closed]
}

public struct TicketLineType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let item: Self = "ItemLine"
    public static let tax: Self = "TaxLine"
    public static let discount: Self = "DiscountLine"
    public static let giftCard: Self = "GiftCardLine"
    public static let shipping: Self = "ShippingLine"
    public static let known: Set<Self> = [.item, .tax, .discount, .giftCard, .shipping]
}

public struct TenderType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let cash: Self = "Cash"
    public static let creditCard: Self = "Credit Card"
    public static let giftCard: Self = "Gift Card"
    public static let known: Set<Self> = [.cash, .creditCard, .giftCard]
}

public struct PayRunStatus: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let open: Self = "OPEN"
    public static let processed: Self = "PROCESSED"
    public static let posted: Self = "POSTED"
    public static let known: Set<Self> = [.open, .processed, .posted]
}

public struct WebhookEventType: OpenEnum {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let batchClosed: Self = "batch.closed"
    public static let transactionRefunded: Self = "transaction.refunded"
    public static let payrollCompleted: Self = "payroll.completed"
    public static let known: Set<Self> = [.batchClosed, .transactionRefunded, .payrollCompleted]
}
