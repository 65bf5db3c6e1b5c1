import Foundation
import Messaging

/// The operations console's own RabbitMQ user, with what the console does and nothing more:
/// read every stage's parking lot `S.dlq` (list, replay, purge), publish replays to the stages'
/// work queues (the default exchange, `amq.default`), releases of approved reviews to
/// `bridge.commands` and its audit notices to `bridge.audit`; configure nothing. The tag
/// `monitoring` lets it read queue statistics from the management API (the pipeline page).
///
/// The alerter's own user cannot do this (it reads only its queues and writes only its retry tiers,
/// alerts, audit and dead letters), and giving the alerter these rights would give them to its stage too.
/// Derived from the topology, so a new stage's parking lot is included without editing anything.
public enum ConsoleBrokerUser {
    public static let defaultName = "operations-console"

    public static func user(_ name: String = defaultName) -> Topology.User {
        Topology.User(name: name, passwordHash: "", hashingAlgorithm: "rabbit_password_hashing_sha256", tags: ["monitoring"])
    }

    public static func permission(_ name: String = defaultName, in topology: Topology,
                                  releaseExchange: String = "bridge.commands", auditExchange: String = "bridge.audit") throws -> Topology.Permission {
        let names = Set(topology.queues.map(\.name))
        let parkingLots = topology.queues.map(\.name).filter { names.contains("\($0).dlq") }.map { "\($0).dlq" }
        // In the definitions format, as RabbitMQ exports it (the type has no public memberwise initialiser).
        let definition = [
            "user": name, "vhost": topology.vhosts.first?.name ?? "/", "configure": "^$",
            "write": exact(["amq.default", releaseExchange, auditExchange]), "read": parkingLots.isEmpty ? "^$" : exact(parkingLots),
        ]
        return try JSONDecoder().decode(Topology.Permission.self, from: JSONSerialization.data(withJSONObject: definition))
    }

    /// The topology with the console user added (replacing a user of that name).
    public static func adding(_ name: String = defaultName, to topology: Topology,
                              releaseExchange: String = "bridge.commands", auditExchange: String = "bridge.audit") throws -> Topology {
        var result = topology
        result.users.removeAll { $0.name == name }
        result.permissions.removeAll { $0.user == name }
        result.users.append(user(name))
        result.permissions.append(try permission(name, in: topology, releaseExchange: releaseExchange, auditExchange: auditExchange))
        result.topicPermissions.removeAll { $0.user == name }
        result.topicPermissions += try topicPermissions(name, vhost: topology.vhosts.first?.name ?? "/", releaseExchange: releaseExchange,
                                                        auditExchange: auditExchange)
        return result
    }

    /// What the console may publish by routing key: on `bridge.commands` the documents a person approved
    /// (`sage.journal.*`), customer match decisions and the sync commands held for them; on `bridge.audit` only
    /// notices ending in `.console`.
    public static func topicPermissions(_ name: String = defaultName, vhost: String = "/", releaseExchange: String = "bridge.commands",
                                        auditExchange: String = "bridge.audit") throws -> [Topology.TopicPermission] {
        let releases = "\(BridgeTopology.journals)|^(heartland|sage)\\.customer\\.decision$|\(BridgeTopology.syncCommands)"
        let definitions = [
            ["user": name, "vhost": vhost, "exchange": releaseExchange, "write": releases, "read": ".*"],
            ["user": name, "vhost": vhost, "exchange": auditExchange, "write": "^audit\\.[a-z_]+\\.console$", "read": ".*"],
        ]
        return try JSONDecoder().decode([Topology.TopicPermission].self, from: JSONSerialization.data(withJSONObject: definitions))
    }

    private static func exact(_ names: [String]) -> String {
        "^(" + names.map { $0.replacingOccurrences(of: ".", with: "\\.") }.joined(separator: "|") + ")$"
    }
}
