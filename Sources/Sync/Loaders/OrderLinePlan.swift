import Foundation
import Messaging
import SageConnector
import SyncContracts

/// The lines a Sage order must have to hold a version of its Heartland order. Lines are matched by item and unit
/// price (Heartland's lines of one item at one price are one Sage line): a matched Sage line keeps its
/// `LineNumber` and takes Heartland's quantity; a Heartland line Sage lacks is added; a Sage line Heartland no longer
/// has is removed. Sage cannot unship: a quantity below what a line has shipped, or removing a line that has
/// shipped, is refused with both numbers for a person (the order stays as it was).
enum OrderLinePlan {
    /// The new lines, or nil when the Sage lines already hold the order.
    static func lines(current: [SageOrderLine], wanted: [OrderRecord.Line], location: String?, order: String, heartland: String) throws
        -> [SageOrderLine]?
    {
        struct Key: Hashable {
            let item: String
            let cents: Int64
        }
        var firstSeen: [Key] = []
        var quantities: [Key: Int64] = [:]
        for line in wanted {
            let key = Key(item: line.itemNumber, cents: line.unitPriceCents)
            if quantities[key] == nil { firstSeen.append(key) }
            quantities[key, default: 0] += line.quantity
        }
        var lines: [SageOrderLine] = []
        for line in current {
            let shipped = line.QuantityShippedToDate ?? 0
            let key = line.unitPriceCents.map { Key(item: line.Item, cents: $0) }
            guard let key, let quantity = quantities.removeValue(forKey: key) else {
                if shipped > 0 {
                    throw StageError.permanent("Heartland order \(heartland) no longer has item \(line.Item) at \(line.PricingUnitPrice), but Sage order "
                        + "\(order) line \(line.LineNumber.map(String.init) ?? "?") has shipped \(shipped) of it: Sage cannot remove a shipped line. "
                        + "Put the line back in Heartland (at least \(shipped)), then replay with `bridgectl dlq replay sage-loader`")
                }
                continue
            }
            guard quantity >= shipped else {
                throw StageError.permanent("Heartland order \(heartland) now wants \(quantity) of item \(line.Item), but Sage order \(order) has "
                    + "already shipped \(shipped): Sage cannot unship. Set the quantity in Heartland to at least \(shipped), then replay with "
                    + "`bridgectl dlq replay sage-loader`")
            }
            var kept = line
            kept.QuantityOrdered = quantity
            kept.QuantityShippedToDate = nil
            lines.append(kept)
        }
        for key in firstSeen {
            guard let quantity = quantities[key] else { continue }
            lines.append(SageOrderLine(item: key.item, location: location, quantity: quantity, unitPriceCents: key.cents))
        }
        let before = current.map { [$0.LineNumber.map(String.init) ?? "", $0.Item, String($0.QuantityOrdered), "\($0.PricingUnitPrice)"] }
        let after = lines.map { [$0.LineNumber.map(String.init) ?? "", $0.Item, String($0.QuantityOrdered), "\($0.PricingUnitPrice)"] }
        return before == after ? nil : lines
    }

    /// `10001 × 3, 10002 × 1`.
    static func describe(_ lines: [SageOrderLine]) -> String {
        lines.map { "\($0.Item) × \($0.QuantityOrdered)" }.joined(separator: ", ")
    }
}
