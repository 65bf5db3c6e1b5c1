import Foundation

/// A GP-API card transaction reduced to what the refund path needs: `GET /ucp/transactions/{id}` or
/// a `transaction.refunded` webhook's `data`. Amounts are GP-API minor-unit strings.
public struct GatewayTransaction: Hashable, Sendable {
    public var id: TransactionID
    /// `SALE` or `REFUND`.
    public var type: String
    public var status: String
    /// Positive, as GP-API writes it.
    public var amount: Money
    public var brand: String
    /// `BRAND:first6******last4`, the card's identity without its number.
    public var card: String
    public var entryMode: String?
    public var batchId: String?
    /// The sale a refund points at.
    public var parentId: TransactionID?
    /// The terminal (`system.tid`).
    public var terminal: String?
    public var createdAt: Date

    public static func parse(_ data: Data, currency: CurrencyCode) throws -> GatewayTransaction {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let wire = try decoder.decode(Wire.self, from: data)
        let record = "card transaction \(wire.id)"
        let masked = wire.paymentMethod?.card?.maskedNumberFirst6Last4 ?? ""
        let first6 = masked.count >= 10 ? String(masked.prefix(6)) : "??????"
        let last4 = masked.count >= 10 ? String(masked.suffix(4)) : "????"
        let brand = (wire.paymentMethod?.card?.brand ?? "").uppercased()
        return GatewayTransaction(
            id: TransactionID(wire.id), type: wire.type.uppercased(), status: wire.status.uppercased(),
            amount: try wire.amount.money(.minor, currency: currency, field: "amount", record: record).magnitude(),
            brand: brand, card: "\(brand):\(first6)******\(last4)", entryMode: wire.paymentMethod?.entryMode,
            batchId: wire.batchId.flatMap { $0.isEmpty ? nil : $0 }, parentId: wire.parentResourceId.flatMap { $0.isEmpty ? nil : TransactionID($0) },
            terminal: wire.system?.tid, createdAt: try HeartlandTimestamp.parse(wire.timeCreated, field: "time_created", record: record))
    }

    private struct Wire: Decodable {
        struct System: Decodable { var tid: String? }
        struct Card: Decodable {
            var brand: String?
            var maskedNumberFirst6Last4: String?
        }
        struct PaymentMethod: Decodable {
            var entryMode: String?
            var card: Card?
        }
        var id: String
        var type: String
        var status: String
        var amount: HeartlandAmount
        var batchId: String?
        var parentResourceId: String?
        var timeCreated: String
        var system: System?
        var paymentMethod: PaymentMethod?
    }
}
