import Foundation
import Synchronization

/// JSONDecoder's `.convertFromSnakeCase`, each key converted once per process: Foundation converts every key of every
/// object each time a decoder opens it (splitting, lower-casing and capitalising strings), which was a third of
/// heartland-ingest's CPU for a store day of 10,000 tickets (issue 21). The conversion is Foundation's own — a key seen for
/// the first time is converted by a `.convertFromSnakeCase` decoder — so every key, however it is spelled (`completed_at`,
/// `COMPLETED_AT`, `completedAt`, `_id`), decodes exactly as before.
enum SnakeCaseKeys {
    static let strategy: JSONDecoder.KeyDecodingStrategy = .custom { path in
        guard let key = path.last else { return AnyKey("") }
        return AnyKey(converted(key.stringValue))
    }

    /// At most this many distinct keys are remembered (a payload of made-up keys cannot grow the process without bound).
    static let capacity = 4096
    private static let known = Mutex<[String: String]>([:])

    /// The keys of Heartland's tickets, converted once and read without the lock: a day's records are read on every core,
    /// and taking the lock for every key of every record was contended (a tenth of heartland-ingest's CPU reading them).
    /// Only which keys skip the lock; any other key is converted and remembered as before.
    static let ticketKeys = ["public_id", "completed_at", "customer_id", "station_id", "sales_rep", "return_of_ticket_id", "location_id",
                             "created_at", "updated_at", "business_day", "local_completed_at", "total_discounts", "tax_total",
                             "gift_card_total", "tip_total", "total_paid", "item_id", "unit_price", "original_unit_price",
                             "discount_amount", "gift_card_number", "original_ticket_id", "original_line_id", "payment_type",
                             "tip_amount", "card_type", "auth_code", "gateway_transaction_id", "entry_mode"]
    private static let ticketKeysConverted = Dictionary(uniqueKeysWithValues: ticketKeys.map { ($0, foundationConversion($0)) })

    /// What `.convertFromSnakeCase` makes of `key`.
    static func converted(_ key: String) -> String {
        // Without an underscore Foundation leaves a key as it is.
        guard key.utf8.contains(UInt8(ascii: "_")) else { return key }
        if let ticketKey = ticketKeysConverted[key] { return ticketKey }
        if let remembered = known.withLock({ $0[key] }) { return remembered }
        let converted = foundationConversion(key)
        known.withLock { if $0.count < capacity { $0[key] = converted } }
        return converted
    }

    private static func foundationConversion(_ key: String) -> String {
        struct Probe: Decodable {
            var key: String?
            init(from decoder: any Decoder) throws { key = try decoder.container(keyedBy: AnyKey.self).allKeys.first?.stringValue }
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let json = try? JSONEncoder().encode([key: 0]), let probe = try? decoder.decode(Probe.self, from: json) else { return key }
        return probe.key ?? key
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
