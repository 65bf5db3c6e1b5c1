import BridgeClock
/// Builds definitions from a short description of the pipeline, so that every stage gets the same
/// shape (quorum work queue, delay tiers, parking lot, least-privilege user). `BridgeTopology.standard`
/// is what `Topology/definitions.json` holds; tests build small pipelines of their own the same way.
///
/// Least privilege that enforces the pipeline: a stage's user may publish only to the exchanges it names, and on
/// each of them (topic permissions) only its own routing keys: its results (`routingKeys`), alerts and audit
/// notices ending in its own name, its own parking-lot key on `bridge.dead` and its own tiers on `bridge.retry`.
/// No user may write the default exchange (`amq.default`), which reaches every queue by name: retries go through
/// `bridge.retry`, where each tier is bound under its own name.
public struct TopologyBuilder: Sendable {
    public struct StageSpec: Sendable {
        public var name: String
        /// (exchange, routing key) pairs the work queue is bound to.
        public var consumes: [(exchange: String, key: String)]
        /// Exchanges the stage publishes its results to.
        public var publishesTo: [String]
        /// Per exchange of `publishesTo` (and the audit exchange, for notices that do not end in the stage's name), a
        /// regular expression of the routing keys the stage may publish there; an exchange without one takes any key.
        public var routingKeys: [String: String]
        public var deliveryLimit: Int
        public var retryDelays: [Duration]

        public init(name: String, consumes: [(exchange: String, key: String)], publishesTo: [String], routingKeys: [String: String] = [:],
                    deliveryLimit: Int = 5, retryDelays: [Duration] = BridgeTopology.defaultRetryDelays) {
            self.name = name
            self.consumes = consumes
            self.publishesTo = publishesTo
            self.routingKeys = routingKeys
            self.deliveryLimit = deliveryLimit
            self.retryDelays = retryDelays
        }
    }

    /// A process that only publishes (an ingest connector).
    public struct SourceSpec: Sendable {
        public var name: String
        public var publishesTo: [String]
        /// As `StageSpec.routingKeys`.
        public var routingKeys: [String: String]
        public init(name: String, publishesTo: [String], routingKeys: [String: String] = [:]) {
            self.name = name
            self.publishesTo = publishesTo
            self.routingKeys = routingKeys
        }
    }

    public var vhost = "/"
    /// Policy names start with it (`bridge-work-queues`); a test pipeline gives its own so that it does not
    /// replace the bridge's policies on a shared broker.
    public var policyPrefix = "bridge"
    public var exchanges: [String]
    public var deadLetterExchange: String
    /// Where parked messages go when their retention runs out (`parkedRetention`): the alerter records
    /// each (without its body) and lets it go.
    public var expiredExchange = "bridge.expired"
    /// How long a parked message (`S.dlq`) is kept: parked Heartland pages hold names, e-mails and phones.
    public var parkedRetention = BridgeTopology.defaultParkedRetention
    public var alertExchange: String
    public var auditExchange: String
    /// Where stages publish retries: each delay tier is bound here under its own queue name.
    public var retryExchange: String
    public var stages: [StageSpec]
    public var sources: [SourceSpec]

    public init(exchanges: [String], deadLetterExchange: String = "bridge.dead", alertExchange: String = "bridge.alerts",
                auditExchange: String = "bridge.audit", retryExchange: String = "bridge.retry", stages: [StageSpec], sources: [SourceSpec] = []) {
        self.exchanges = exchanges
        self.deadLetterExchange = deadLetterExchange
        self.alertExchange = alertExchange
        self.auditExchange = auditExchange
        self.retryExchange = retryExchange
        self.stages = stages
        self.sources = sources
    }

    public func build() -> Topology {
        var queues: [Topology.Queue] = []
        var bindings: [Topology.Binding] = []
        var users: [Topology.User] = []
        var permissions: [Topology.Permission] = []
        var topicPermissions: [Topology.TopicPermission] = []
        let allExchanges = (exchanges + [deadLetterExchange, retryExchange, expiredExchange]).uniqued()

        for stage in stages {
            queues.append(queue(stage.name, [
                "x-queue-type": .string("quorum"),
                "x-delivery-limit": .int(Int64(stage.deliveryLimit)),
                "x-dead-letter-exchange": .string(deadLetterExchange),
                "x-dead-letter-routing-key": .string(stage.name),
            ]))
            for delay in stage.retryDelays {
                // A quorum queue whose expired messages leave only once the work queue has confirmed them
                // (at-least-once dead-lettering, RabbitMQ 3.10; it requires reject-publish). A classic tier
                // dead-letters at most once: messages expiring while the node boots were dropped.
                let tier = RetryTier(stage: stage.name, delay: delay)
                queues.append(queue(tier.queue, [
                    "x-queue-type": .string("quorum"),
                    "x-message-ttl": .int(tier.milliseconds),
                    "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(stage.name),
                    "x-dead-letter-strategy": .string("at-least-once"),
                    "x-overflow": .string("reject-publish"),
                ]))
                bindings.append(binding(retryExchange, tier.queue, tier.queue))
            }
            queues.append(queue("\(stage.name).dlq", ["x-queue-type": .string("quorum")]))
            for (exchange, key) in stage.consumes {
                bindings.append(binding(exchange, stage.name, key))
            }
            bindings.append(binding(deadLetterExchange, "\(stage.name).dlq", stage.name))

            let own = "^\(escape(stage.name))(\\.\(RetryTier.infix)\\.[0-9a-z]+|\\.dlq)?$"
            let readsFrom = stage.consumes.map(\.exchange) + [deadLetterExchange, retryExchange]
            let writesTo = stage.publishesTo + [alertExchange, auditExchange, deadLetterExchange, retryExchange]
            users.append(user(stage.name))
            permissions.append(Topology.Permission(
                user: stage.name, vhost: vhost, configure: own,
                write: alternation(writesTo, plus: own),
                read: alternation(readsFrom, plus: own)))
            var keys = ownKeys(stage.name, stage.routingKeys)
            keys[deadLetterExchange] = "^\(escape(stage.name))$"
            keys[retryExchange] = "^\(escape(stage.name))\\.\(RetryTier.infix)\\.[0-9a-z]+$"
            for exchange in stage.publishesTo where keys[exchange] == nil { keys[exchange] = stage.routingKeys[exchange] ?? ".*" }
            topicPermissions += keyPermissions(stage.name, keys)
        }
        for source in sources {
            users.append(user(source.name))
            permissions.append(Topology.Permission(
                user: source.name, vhost: vhost, configure: "^$",
                write: alternation(source.publishesTo + [alertExchange, auditExchange], plus: nil),
                read: alternation(source.publishesTo, plus: nil)))
            var keys = ownKeys(source.name, source.routingKeys)
            for exchange in source.publishesTo where keys[exchange] == nil { keys[exchange] = source.routingKeys[exchange] ?? ".*" }
            topicPermissions += keyPermissions(source.name, keys)
        }

        let stageNames = stages.map { escape($0.name) }.joined(separator: "|")
        return Topology(
            rabbitVersion: "3.10.8",
            vhosts: [.init(name: vhost)],
            users: users,
            permissions: permissions,
            exchanges: allExchanges.map {
                Topology.Exchange(name: $0, vhost: vhost, type: "topic", durable: true, autoDelete: false, internal: false, arguments: [:])
            },
            queues: queues,
            bindings: bindings,
            policies: stages.isEmpty ? [] : [
                // At-least-once dead-lettering: a message over the delivery limit stays in its queue until
                // the parking lot has confirmed it, instead of the default fire-and-forget (anchors §2.3).
                Topology.Policy(vhost: vhost, name: "\(policyPrefix)-work-queues", pattern: "^(\(stageNames))$", applyTo: "queues",
                                definition: ["dead-letter-strategy": .string("at-least-once"), "overflow": .string("reject-publish")],
                                priority: 0),
                parkedMessagesPolicy(pattern: "^(\(stageNames))\\.dlq$"),
            ],
            topicPermissions: topicPermissions)
    }

    /// Alerts and audit notices a process may publish: those ending in its own name (`alert.<kind>.<name>`,
    /// `audit.<event>.<name>`), and on the audit exchange whatever else `routingKeys` names for it.
    private func ownKeys(_ name: String, _ routingKeys: [String: String]) -> [String: String] {
        let suffix = "\\.\(escape(name))$"
        var audit = "^audit\\.[a-z_]+\(suffix)"
        if let extra = routingKeys[auditExchange] { audit += "|\(extra)" }
        return [alertExchange: "^alert\\.[a-z_]+\(suffix)", auditExchange: audit]
    }

    private func keyPermissions(_ user: String, _ keys: [String: String]) -> [Topology.TopicPermission] {
        keys.keys.sorted().map { Topology.TopicPermission(user: user, vhost: vhost, exchange: $0, write: keys[$0]!, read: ".*") }
    }

    /// Retention of parked messages (docs/SECURITY.md): a policy, not queue arguments, so that it can change on
    /// queues that exist (new arguments on an existing queue fail with PRECONDITION_FAILED). Only one policy
    /// applies to a queue, the one of highest priority: no other policy matches `S.dlq`. Expired messages are
    /// dead-lettered at least once to `expiredExchange`, under their own routing key (the stage's name).
    private func parkedMessagesPolicy(pattern: String) -> Topology.Policy {
        Topology.Policy(vhost: vhost, name: "\(policyPrefix)-\(Topology.parkedMessagesPolicySuffix)", pattern: pattern, applyTo: "queues",
                        definition: [
                            "message-ttl": .int(parkedRetention.milliseconds),
                            "dead-letter-exchange": .string(expiredExchange),
                            "dead-letter-strategy": .string("at-least-once"),
                            "overflow": .string("reject-publish"),
                        ], priority: 0)
    }

    private func queue(_ name: String, _ arguments: [String: JSONValue]) -> Topology.Queue {
        Topology.Queue(name: name, vhost: vhost, durable: true, autoDelete: false, arguments: arguments)
    }

    private func binding(_ source: String, _ destination: String, _ key: String) -> Topology.Binding {
        Topology.Binding(source: source, vhost: vhost, destination: destination, destinationType: "queue", routingKey: key, arguments: [:])
    }

    private func user(_ name: String) -> Topology.User {
        Topology.User(name: name, passwordHash: "", hashingAlgorithm: "rabbit_password_hashing_sha256", tags: [])
    }

    private func escape(_ name: String) -> String {
        name.replacingOccurrences(of: ".", with: "\\.")
    }

    private func alternation(_ names: [String], plus pattern: String?) -> String {
        let exact = "^(\(names.uniqued().map(escape).joined(separator: "|")))$"
        guard let pattern else { return exact }
        return "\(exact)|\(pattern)"
    }
}

/// The bridge's own pipeline (ARCHITECTURE.md, "Topology").
public enum BridgeTopology {
    public static let defaultRetryDelays: [Duration] = [.seconds(5), .seconds(30), .seconds(300), .seconds(1800)]

    /// Parked messages are kept 30 days, then recorded by the alerter and dropped (docs/SECURITY.md).
    public static let defaultParkedRetention: Duration = .seconds(30 * 24 * 3600)

    public static let exchanges = ["bridge.events", "bridge.scoring", "bridge.commands", "bridge.audit", "bridge.alerts"]

    public static var standard: TopologyBuilder {
        TopologyBuilder(
            exchanges: exchanges,
            stages: [
                // Journals go to the fraud scorer, never straight to the loaders: the transformer may publish on
                // bridge.commands only the master-data commands of the two-way sync and tickets' AR documents.
                .init(name: "transformer", consumes: [("bridge.events", "heartland.#"), ("bridge.events", "sage.#")],
                      publishesTo: ["bridge.scoring", "bridge.commands"],
                      routingKeys: ["bridge.scoring": journals, "bridge.commands": syncCommands]),
                .init(name: "fraud-scorer", consumes: [("bridge.scoring", "#")], publishesTo: ["bridge.commands"],
                      routingKeys: ["bridge.commands": journals]),
                // A reconciliation report is named by its status (`audit.reconciliation.matched`).
                .init(name: "sage-loader", consumes: [("bridge.commands", "sage.#")], publishesTo: [],
                      routingKeys: ["bridge.audit": "^audit\\.reconciliation\\.[a-z_]+$"]),
                .init(name: "heartland-loader", consumes: [("bridge.commands", "heartland.#")], publishesTo: []),
                .init(name: "alerter",
                      consumes: [("bridge.alerts", "#"), ("bridge.audit", "#"), ("bridge.expired", "#")]
                          + ["transformer", "fraud-scorer", "sage-loader", "heartland-loader"].map { ("bridge.dead", $0) },
                      publishesTo: []),
            ],
            sources: [
                // The gateway feed (every GP-API transaction, declines included, and voided tickets) goes straight to the fraud scorer.
                .init(name: "heartland-ingest", publishesTo: ["bridge.events", "bridge.scoring"],
                      routingKeys: ["bridge.events": "^heartland\\.[a-z_]+\\.[a-z_]+$", "bridge.scoring": "^heartland\\.(gateway\\.[a-z_]+|ticket\\.voided)$"]),
                .init(name: "sage-ingest", publishesTo: ["bridge.events"], routingKeys: ["bridge.events": "^sage\\.[a-z_]+\\.[a-z_]+$"]),
            ])
    }

    /// Journal documents (`sage.journal.<source>`).
    public static let journals = "^sage\\.journal\\.[a-z_]+$"

    /// The master-data commands the transformer makes of the two-way sync's events (`MasterDataTransform`) and the AR
    /// documents of tickets charged to or paying down a house account (`sage.ar.invoice`, `sage.ar.receipt`); not the
    /// console's customer decisions, not journals.
    public static let syncCommands = "^(heartland\\.(item\\.update|stock\\.set|customer\\.upsert|order\\.status)"
        + "|sage\\.(customer\\.upsert|order\\.create|order\\.update|item\\.upsert|ar\\.invoice|ar\\.receipt))$"
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
