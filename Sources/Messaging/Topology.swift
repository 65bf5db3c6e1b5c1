import AMQP
import Foundation

/// The broker topology in RabbitMQ's definitions format: the same file is imported by RabbitMQ at
/// boot (Compose: `load_definitions`) and applied by `bridgectl topology apply`.
public struct Topology: Codable, Sendable, Equatable {
    public var rabbitVersion: String?
    public var vhosts: [VHost]
    public var users: [User]
    public var permissions: [Permission]
    public var exchanges: [Exchange]
    public var queues: [Queue]
    public var bindings: [Binding]
    public var policies: [Policy]
    /// Which routing keys each user may publish on each topic exchange (RabbitMQ topic authorisation): the broker
    /// refuses any other key with ACCESS_REFUSED. An exchange a user has no entry for is not restricted by key.
    public var topicPermissions: [TopicPermission]

    enum CodingKeys: String, CodingKey {
        case rabbitVersion = "rabbit_version", vhosts, users, permissions, exchanges, queues, bindings, policies
        case topicPermissions = "topic_permissions"
    }

    public init(rabbitVersion: String?, vhosts: [VHost], users: [User], permissions: [Permission], exchanges: [Exchange], queues: [Queue],
                bindings: [Binding], policies: [Policy], topicPermissions: [TopicPermission] = []) {
        self.rabbitVersion = rabbitVersion
        self.vhosts = vhosts
        self.users = users
        self.permissions = permissions
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.policies = policies
        self.topicPermissions = topicPermissions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rabbitVersion = try c.decodeIfPresent(String.self, forKey: .rabbitVersion)
        vhosts = try c.decodeIfPresent([VHost].self, forKey: .vhosts) ?? []
        users = try c.decodeIfPresent([User].self, forKey: .users) ?? []
        permissions = try c.decodeIfPresent([Permission].self, forKey: .permissions) ?? []
        exchanges = try c.decodeIfPresent([Exchange].self, forKey: .exchanges) ?? []
        queues = try c.decodeIfPresent([Queue].self, forKey: .queues) ?? []
        bindings = try c.decodeIfPresent([Binding].self, forKey: .bindings) ?? []
        policies = try c.decodeIfPresent([Policy].self, forKey: .policies) ?? []
        topicPermissions = try c.decodeIfPresent([TopicPermission].self, forKey: .topicPermissions) ?? []
    }

    public struct TopicPermission: Codable, Sendable, Hashable {
        public var user: String
        public var vhost: String
        public var exchange: String
        /// A regular expression the routing key of every publish must match.
        public var write: String
        public var read: String
    }

    public struct VHost: Codable, Sendable, Hashable { public var name: String }

    public struct User: Codable, Sendable, Hashable {
        public var name: String
        /// Empty in the committed file: passwords are set at deploy time, never committed.
        public var passwordHash: String
        public var hashingAlgorithm: String
        public var tags: [String]
        enum CodingKeys: String, CodingKey { case name, passwordHash = "password_hash", hashingAlgorithm = "hashing_algorithm", tags }

        public init(name: String, passwordHash: String, hashingAlgorithm: String, tags: [String]) {
            self.name = name
            self.passwordHash = passwordHash
            self.hashingAlgorithm = hashingAlgorithm
            self.tags = tags
        }

        /// The broker exports `tags` as a list or as a comma-separated string depending on its version.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            passwordHash = try c.decodeIfPresent(String.self, forKey: .passwordHash) ?? ""
            hashingAlgorithm = try c.decodeIfPresent(String.self, forKey: .hashingAlgorithm) ?? "rabbit_password_hashing_sha256"
            if let list = try? c.decode([String].self, forKey: .tags) {
                tags = list
            } else {
                tags = (try c.decodeIfPresent(String.self, forKey: .tags) ?? "").split(separator: ",").map(String.init)
            }
        }
    }

    public struct Permission: Codable, Sendable, Hashable {
        public var user: String
        public var vhost: String
        public var configure: String
        public var write: String
        public var read: String
    }

    public struct Exchange: Codable, Sendable, Hashable {
        public var name: String
        public var vhost: String
        public var type: String
        public var durable: Bool
        public var autoDelete: Bool
        public var `internal`: Bool
        public var arguments: [String: JSONValue]
        enum CodingKeys: String, CodingKey { case name, vhost, type, durable, autoDelete = "auto_delete", `internal`, arguments }
    }

    public struct Queue: Codable, Sendable, Hashable {
        public var name: String
        public var vhost: String
        public var durable: Bool
        public var autoDelete: Bool
        public var arguments: [String: JSONValue]
        enum CodingKeys: String, CodingKey { case name, vhost, durable, autoDelete = "auto_delete", arguments }

        public init(name: String, vhost: String, durable: Bool, autoDelete: Bool, arguments: [String: JSONValue]) {
            self.name = name
            self.vhost = vhost
            self.durable = durable
            self.autoDelete = autoDelete
            self.arguments = arguments
        }
    }

    public struct Binding: Codable, Sendable, Hashable {
        public var source: String
        public var vhost: String
        public var destination: String
        public var destinationType: String
        public var routingKey: String
        public var arguments: [String: JSONValue]
        enum CodingKeys: String, CodingKey {
            case source, vhost, destination, destinationType = "destination_type", routingKey = "routing_key", arguments
        }

        public init(source: String, vhost: String, destination: String, destinationType: String, routingKey: String, arguments: [String: JSONValue]) {
            self.source = source
            self.vhost = vhost
            self.destination = destination
            self.destinationType = destinationType
            self.routingKey = routingKey
            self.arguments = arguments
        }
    }

    public struct Policy: Codable, Sendable, Hashable {
        public var vhost: String
        public var name: String
        public var pattern: String
        public var applyTo: String
        public var definition: [String: JSONValue]
        public var priority: Int
        enum CodingKeys: String, CodingKey { case vhost, name, pattern, applyTo = "apply-to", definition, priority }
    }

    public static func load(from path: String) throws -> Topology {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TopologyError.missingFile(path)
        }
        do {
            return try JSONDecoder().decode(Topology.self, from: data)
        } catch {
            throw TopologyError.invalidFile(path, "\(error)")
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// The file workers and tools use unless told otherwise: `$BRIDGE_TOPOLOGY`, else `Topology/definitions.json`
    /// in the working directory or one of its parents.
    public static func defaultPath() -> String {
        if let path = ProcessInfo.processInfo.environment["BRIDGE_TOPOLOGY"], !path.isEmpty { return path }
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            let candidate = directory.appendingPathComponent("Topology/definitions.json").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        return "Topology/definitions.json"
    }

    /// The part of the topology one stage consumes from and owns.
    public func stage(_ name: String) throws -> StageTopology {
        guard let work = queues.first(where: { $0.name == name }) else { throw TopologyError.unknownStage(name) }
        let tiers = queues.compactMap { queue -> RetryTier? in
            guard RetryTier.isTier(queue.name, of: name), let ttl = queue.arguments["x-message-ttl"]?.intValue else { return nil }
            return RetryTier(queue: queue.name, delay: .milliseconds(ttl))
        }
        guard let dlq = queues.first(where: { $0.name == "\(name).dlq" }) else { throw TopologyError.missingDeadLetterQueue(name) }
        let owned = Set([work.name, dlq.name] + tiers.map(\.queue))
        return StageTopology(
            name: name,
            workQueue: work,
            retryQueues: queues.filter { owned.contains($0.name) && RetryTier.isTier($0.name, of: name) },
            deadLetterQueue: dlq,
            bindings: bindings.filter { owned.contains($0.destination) },
            retryPolicy: RetryPolicy(tiers: tiers),
            deliveryLimit: work.arguments["x-delivery-limit"]?.intValue.map(Int.init))
    }
}

public enum TopologyError: Error, CustomStringConvertible, Sendable {
    case missingFile(String), invalidFile(String, String), unknownStage(String), missingDeadLetterQueue(String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "topology file \(path) not found (set BRIDGE_TOPOLOGY or pass --topology)"
        case .invalidFile(let path, let why): return "topology file \(path) is not valid definitions JSON: \(why)"
        case .unknownStage(let name): return "the topology has no work queue named '\(name)'"
        case .missingDeadLetterQueue(let name): return "the topology has no parking-lot queue '\(name).dlq' for stage \(name)"
        }
    }
}

/// One stage's queues: work queue, delay tiers, parking lot, and their bindings.
public struct StageTopology: Sendable {
    public var name: String
    public var workQueue: Topology.Queue
    public var retryQueues: [Topology.Queue]
    public var deadLetterQueue: Topology.Queue
    public var bindings: [Topology.Binding]
    public var retryPolicy: RetryPolicy
    public var deliveryLimit: Int?

    public var queues: [Topology.Queue] { [workQueue] + retryQueues + [deadLetterQueue] }

    /// The exchange retries (and tier pokes) are published to: the one the delay tiers are bound from
    /// (`bridge.retry`), or the default exchange for a topology from before it existed.
    public var retryExchange: String {
        bindings.first { RetryTier.isTier($0.destination, of: name) }?.source ?? ""
    }

    /// Declares this stage's queues and bindings (idempotent: same arguments as the file) and checks that
    /// the exchanges it is bound to exist. Run on every (re)connect.
    public func declare(on connection: AMQPConnection, channel: UInt16) throws {
        for exchange in Set(bindings.map(\.source)) {
            try connection.declareExchange(channel: channel, name: exchange, type: "topic", passive: true)
        }
        for queue in queues {
            try connection.declareQueue(channel: channel, name: queue.name, durable: queue.durable, autoDelete: queue.autoDelete,
                                        arguments: queue.arguments.mapValues(\.fieldValue))
        }
        for binding in bindings {
            try connection.bindQueue(channel: channel, queue: binding.destination, exchange: binding.source,
                                     routingKey: binding.routingKey, arguments: binding.arguments.mapValues(\.fieldValue))
        }
    }
}

extension Topology {
    /// The names the delay tiers had in earlier releases (`S.retry.<delay>`, classic queues, which could lose
    /// messages at a broker restart). A queue's arguments cannot change in place (PRECONDITION_FAILED), so the
    /// quorum tiers have new names and `bridgectl topology apply` deletes these once they have drained.
    public var retiredRetryTiers: [String] {
        queues.compactMap { queue in
            guard queue.arguments["x-message-ttl"] != nil, let range = queue.name.range(of: ".\(RetryTier.infix).", options: .backwards) else { return nil }
            return queue.name.replacingCharacters(in: range, with: ".retry.")
        }
    }

    /// Declares every exchange, queue and binding over AMQP. Users, permissions and policies need the
    /// management API (`BrokerAdmin`); this is what tests and a worker with configure rights can do alone.
    public func declareEntities(on connection: AMQPConnection, channel: UInt16) throws {
        for exchange in exchanges {
            try connection.declareExchange(channel: channel, name: exchange.name, type: exchange.type, durable: exchange.durable,
                                           autoDelete: exchange.autoDelete, isInternal: exchange.internal,
                                           arguments: exchange.arguments.mapValues(\.fieldValue))
        }
        for queue in queues {
            try connection.declareQueue(channel: channel, name: queue.name, durable: queue.durable, autoDelete: queue.autoDelete,
                                        arguments: queue.arguments.mapValues(\.fieldValue))
        }
        for binding in bindings where binding.destinationType == "queue" {
            try connection.bindQueue(channel: channel, queue: binding.destination, exchange: binding.source,
                                     routingKey: binding.routingKey, arguments: binding.arguments.mapValues(\.fieldValue))
        }
    }
}
