import BridgeClock
import Foundation

/// How long parked messages (`S.dlq`) are kept: the `message-ttl` of the topology's parked-messages policy
/// (`TopologyBuilder.parkedRetention`, 30 days unless configured). Where the topology is applied
/// (`bridgectl topology apply`), `$BRIDGE_PARKED_RETENTION_SECONDS` or `--parked-retention-seconds`
/// replaces what the file says; see docs/SECURITY.md.
extension Topology {
    public static let parkedMessagesPolicySuffix = "parked-messages"
    public static let parkedRetentionVariable = "BRIDGE_PARKED_RETENTION_SECONDS"

    /// The retention the topology gives parked messages, nil if it has no parked-messages policy.
    public var parkedRetention: Duration? {
        policies.first(where: \.isParkedMessagesPolicy)?.definition["message-ttl"]?.intValue.map { .milliseconds($0) }
    }

    /// The same topology with parked messages kept `retention`.
    public func keepingParkedMessages(for retention: Duration) -> Topology {
        var topology = self
        for index in topology.policies.indices where topology.policies[index].isParkedMessagesPolicy {
            topology.policies[index].definition["message-ttl"] = .int(retention.milliseconds)
        }
        return topology
    }
}

extension Topology.Policy {
    var isParkedMessagesPolicy: Bool { name.hasSuffix("-" + Topology.parkedMessagesPolicySuffix) }
}
