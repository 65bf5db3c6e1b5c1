import Logging
import Messaging

/// The transformer's rules for master data (customers, items, stock, orders) in either direction:
/// events `heartland.customer.*`, `heartland.order.*` and `sage.*` become commands on `bridge.commands`.
/// The transformer hands every such event here.
public enum MasterDataTransform {
    /// True for the routing keys this transform owns.
    public static func handles(_ routingKey: String) -> Bool {
        routingKey.hasPrefix("sage.") || routingKey.hasPrefix("heartland.customer.") || routingKey.hasPrefix("heartland.order.")
    }

    public static func outcome(for message: InboundMessage, commandsExchange: String, logger: Logger) throws -> StageOutcome {
        throw StageError.permanent("master-data sync is not built yet: no rule for '\(message.routingKey)'")
    }
}
