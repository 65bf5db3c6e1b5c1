import Foundation
import HeartlandConnector
import Messaging
import Metrics
import SyncContracts

/// `sync_conflict`: the side that does not own a field changed it. The owner's value stands (the
/// loader does not write the other side's change); the audit notice names both values, and
/// `bridge_sync_conflicts_total{entity, field, changed_on}` counts them.
enum SyncConflicts {
    /// One notice per field in `fields` (changed on `changedOn` since its last sweep) that the other side
    /// owns and whose value now differs from the owner's (`ours`), compared as the matcher compares them.
    static func notices(_ entity: SyncEntity, changedOn side: SyncSide, fields: [String], policy: SyncPolicy, what: String, twin: String,
                        theirs: (String) -> String?, ours: (String) -> String?, stage: String, exchange: String, key: String) throws
        -> [OutboundMessage]
    {
        var notices: [OutboundMessage] = []
        for field in fields {
            guard let owner = policy.owner(entity, field), owner != side, !equivalent(field, theirs(field), ours(field)) else { continue }
            Counter(label: "bridge_sync_conflicts_total", dimensions: [("entity", entity.rawValue), ("field", field), ("changed_on", side.rawValue)])
                .increment()
            let detail = "\(side.displayName) changed \(field) of \(entity.rawValue) \(what) to \(quoted(field, theirs(field))), but \(owner.displayName) owns "
                + "\(field): \(owner.displayName)'s \(quoted(field, ours(field))) stands (\(twin)); change it in \(owner.displayName) to change it everywhere"
            let notice = AuditNotice(event: .syncConflict, stage: stage, detail: detail, idempotencyKey: key)
            notices.append(try OutboundMessage(exchange: exchange, routingKey: AuditEvent.syncConflict.routingKey(stage), json: notice,
                                               idempotencyKey: key, schema: "bridge.audit.v1"))
        }
        return notices
    }

    static func equivalent(_ field: String, _ a: String?, _ b: String?) -> Bool {
        if a == b { return true }
        switch field {
        case "email": return ContactKeys.email(a) != nil && ContactKeys.email(a) == ContactKeys.email(b)
        case "phone": return ContactKeys.phone(a) != nil && ContactKeys.phone(a) == ContactKeys.phone(b)
        case "first_name", "last_name", "description":
            return (a ?? "").split(whereSeparator: \.isWhitespace) == (b ?? "").split(whereSeparator: \.isWhitespace)
        default: return false
        }
    }

    /// A value as people read it: prices in dollars, text without its padding.
    static func quoted(_ field: String, _ value: String?) -> String {
        guard let value else { return "nothing" }
        if field == "price", let cents = Int64(value) { return "\(RetailAmount.decimal(cents: cents))" }
        return "'\(ContactKeys.shown(value) ?? "")'"
    }
}
