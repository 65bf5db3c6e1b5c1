import BridgeClock
import Foundation
import SimulatorKit

/// GP-API JSON for transactions and batches. Amounts are minor-unit strings.
enum GPRendering {
    static func transaction(_ t: CardTransaction, location: Location?) -> JSONValue {
        let zone = location?.zone ?? TimeZone(identifier: "UTC")!
        var json: [String: JSONValue] = [
            "id": .string(t.id), "time_created": .string(Timestamps.iso8601(t.timeCreated)),
            "time_created_reference": .string(Timestamps.iso8601(t.timeCreated, in: zone)),
            "type": .string(t.type), "status": .string(t.status), "channel": "CP",
            "amount": Money.minorUnits(t.amountCents), "currency": .string(t.currency),
            "gratuity_amount": Money.minorUnits(t.gratuityCents), "reference": .string(t.reference),
            "description": .string(t.ticketId.map { "Ticket \($0)" } ?? ""), "batch_id": .string(t.batchId),
            "parent_resource_id": .optional(t.parentResourceId), "country": "US",
            "system": [
                "mid": .string(location?.merchantId ?? ""), "tid": .string(location?.deviceId ?? ""),
                "name": .string(location?.name ?? ""), "dba": .string(location?.name ?? ""),
                "hierarchy": .string("000-\(location?.id ?? 0)"),
            ],
            "payment_method": [
                // A decline carries the issuer's refusal (05, "do not honour"), as GP-API's `payment_method.result` / `.message` do.
                "result": t.status == "DECLINED" ? "05" : "00", "message": t.status == "DECLINED" ? "DECLINED" : "SUCCESS",
                "entry_mode": .string(t.entryMode), "name": "",
                "card": [
                    "brand": .string(t.brand), "masked_number_first6last4": .string("\(t.first6)XXXXXX\(t.last4)"),
                    "authcode": .string(t.authCode), "brand_reference": .string("BR\(t.authCode)"), "arn": "",
                ],
            ],
        ]
        if let location { json["location_id"] = .int(location.id) }
        return .object(json)
    }

    struct Totals {
        var count = 0
        var salesCount = 0
        var salesCents: Int64 = 0
        var refundsCount = 0
        var refundsCents: Int64 = 0
        var gratuityCents: Int64 = 0
        var feeCents: Int64 = 0
        var netCents: Int64 { salesCents - refundsCents }

        /// Processing fee on a sale (invented; the real batch close carries none): AMEX 3.00 %,
        /// other brands 2.60 %, rounded half up, plus 10 cents.
        static func fee(_ t: CardTransaction) -> Int64 {
            let basisPoints: Int64 = t.brand == "AMEX" ? 300 : 260
            return (t.amountCents * basisPoints + 5000) / 10000 + 10
        }

        mutating func add(_ t: CardTransaction) {
            guard t.settles else { return }
            count += 1
            if t.type == "REFUND" {
                refundsCount += 1
                refundsCents += t.amountCents
            } else {
                salesCount += 1
                salesCents += t.amountCents
                gratuityCents += t.gratuityCents
                feeCents += Self.fee(t)
            }
        }

        var json: [String: JSONValue] {
            [
                "count": .int(count), "amount": Money.minorUnits(netCents),
                "sales": ["count": .int(salesCount), "amount": Money.minorUnits(salesCents)],
                "refunds": ["count": .int(refundsCount), "amount": Money.minorUnits(refundsCents)],
                "gratuity_amount": Money.minorUnits(gratuityCents), "fee_amount": Money.minorUnits(feeCents),
            ]
        }
    }

    static func batch(_ batch: SettlementBatch, transactions: [CardTransaction], location: Location?) -> JSONValue {
        var totals = Totals()
        var brands: [String: Totals] = [:]
        for t in transactions where t.settles {
            totals.add(t)
            brands[t.brand, default: Totals()].add(t)
        }
        var json = totals.json
        json["id"] = .string(batch.id)
        json["batch_id"] = .string(batch.id)
        json["status"] = .string(batch.status)
        json["business_day"] = .string(batch.businessDay)
        json["location_id"] = .int(batch.locationId)
        json["merchant_id"] = .string(location?.merchantId ?? "")
        json["device_reference"] = .string(location?.deviceId ?? "")
        json["transaction_count"] = .int(totals.count)
        json["currency"] = "USD"
        json["time_created"] = .string(Timestamps.iso8601(batch.timeCreated))
        json["time_closed"] = batch.timeClosed.map { .string(Timestamps.iso8601($0)) } ?? .null
        if let fees = batch.fees {
            json.removeValue(forKey: "fee_amount")
            if fees.mode != .noFees { json["fee_amount"] = Money.minorUnits(stated(fees).batch) }
        }
        json["brand_breakdown"] = .array(brands.keys.sorted().map { brand in
            var entry = brands[brand]!.json
            entry["brand"] = .string(brand)
            if let fees = batch.fees {
                entry.removeValue(forKey: "fee_amount")
                if fees.mode == .perBrand { entry["fee_amount"] = Money.minorUnits(stated(fees).brands[brand] ?? 0) }
            }
            return .object(entry)
        })
        json["host_breakdown"] = ["count": .int(totals.count), "amount": Money.minorUnits(totals.netCents)]
        return .object(json)
    }

    /// The batch's own fee statement: its total and, for `per_brand`, each brand's share.
    private static func stated(_ fees: BatchFees) -> (batch: Int64, brands: [String: Int64]) {
        switch fees.mode {
        case .perBrand:
            let brands = fees.perBrandCents ?? [:]
            return (brands.values.reduce(0, +), brands)
        case .unsplit: return (fees.totalCents ?? 0, [:])
        case .noFees: return (0, [:])
        }
    }
}
