import Messaging

/// What differs between the topology file and a broker: entities missing on the broker, present with
/// other settings, and (within the file's namespaces) present on the broker but not in the file.
public struct TopologyDiff: Sendable, Equatable {
    public var missing: [String] = []
    public var different: [String] = []
    public var extra: [String] = []

    public var isEmpty: Bool { missing.isEmpty && different.isEmpty && extra.isEmpty }

    public init(file: Topology, broker: Topology) {
        compare("exchange", file.exchanges, broker.exchanges.filter { !$0.name.hasPrefix("amq.") && !$0.name.isEmpty }, key: \.name)
        compare("queue", file.queues, broker.queues, key: \.name)
        compare("binding", file.bindings, broker.bindings, key: { "\($0.source) -[\($0.routingKey)]-> \($0.destination)" })
        compare("policy", file.policies, broker.policies, key: \.name)
        compare("permission", file.permissions, broker.permissions.filter { p in file.users.contains { $0.name == p.user } }, key: \.user)
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
