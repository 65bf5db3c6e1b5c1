import Messaging

/// What differs between the topology file and a broker: entities missing on the broker, present with
/// other settings, and (within the file's namespaces) present on the broker but not in the file.
public struct TopologyDiff: Sendable, Equatable {
    public var missing: [String] = []
    public var different: [String] = []
    public var extra: [String] = []

    public var isEmpty: Bool { missing.isEmpty && different.isEmpty && extra.isEmpty }

    /// Only the file's virtual hosts are compared: another virtual host on the same broker is not the file's business.
    public init(file: Topology, broker: Topology) {
        let vhosts = Set(file.vhosts.map(\.name))
        func ours(_ vhost: String) -> Bool { vhosts.isEmpty || vhosts.contains(vhost) }
        compare("exchange", file.exchanges, broker.exchanges.filter { !$0.name.hasPrefix("amq.") && !$0.name.isEmpty && ours($0.vhost) }, key: \.name)
        compare("queue", file.queues, broker.queues.filter { ours($0.vhost) }, key: \.name)
        compare("binding", file.bindings, broker.bindings.filter { ours($0.vhost) }, key: { "\($0.source) -[\($0.routingKey)]-> \($0.destination)" })
        compare("policy", file.policies, broker.policies.filter { ours($0.vhost) }, key: \.name)
        compare("permission", file.permissions, broker.permissions.filter { p in ours(p.vhost) && file.users.contains { $0.name == p.user } }, key: \.user)
        compare("topic permission", file.topicPermissions,
                broker.topicPermissions.filter { p in ours(p.vhost) && file.users.contains { $0.name == p.user } }, key: { "\($0.user) on \($0.exchange)" })
        let brokerUsers = Set(broker.users.map(\.name))
        missing += file.users.map(\.name).filter { !brokerUsers.contains($0) }.map { "user \($0)" }
    }

    private mutating func compare<T: Equatable>(_ kind: String, _ file: [T], _ broker: [T], key: (T) -> String) {
        let onBroker = Dictionary(broker.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let inFile = Set(file.map(key))
        for entity in file {
            guard let actual = onBroker[key(entity)] else { missing.append("\(kind) \(key(entity))"); continue }
            if actual != entity { different.append("\(kind) \(key(entity))") }
        }
        extra += onBroker.keys.filter { !inFile.contains($0) }.sorted().map { "\(kind) \($0)" }
    }
}
