import AMQP
import Foundation
import Logging
import Testing
@testable import Messaging

@Suite struct TopologyFileTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Topology/definitions.json").path

    @Test func committedFileIsWhatTheBuilderProduces() throws {
        let committed = try Topology.load(from: Self.file)
        #expect(committed == BridgeTopology.standard.build(), "regenerate with: bridgectl topology render > Topology/definitions.json")
    }

    @Test func everyStageHasQuorumQueueTiersAndParkingLot() throws {
        let topology = try Topology.load(from: Self.file)
        for name in ["transformer", "fraud-scorer", "sage-loader", "heartland-loader", "alerter"] {
            let stage = try topology.stage(name)
            #expect(stage.workQueue.arguments["x-queue-type"] == .string("quorum"))
            #expect(stage.workQueue.arguments["x-dead-letter-exchange"] == .string("bridge.dead"))
            #expect(stage.deliveryLimit == 5)
            #expect(stage.retryPolicy.tiers.map(\.delay) == [.seconds(5), .seconds(30), .seconds(300), .seconds(1800)])
            #expect(stage.retryQueues.allSatisfy { $0.arguments["x-dead-letter-routing-key"] == .string(name) && $0.arguments["x-dead-letter-exchange"] == .string("") })
            // Every hand-off at least once: a tier's expired messages leave only once the work queue has them.
            #expect(stage.retryQueues.map(\.name) == ["5s", "30s", "5m", "30m"].map { "\(name).delay.\($0)" })
            #expect(stage.retryQueues.allSatisfy {
                $0.arguments["x-queue-type"] == .string("quorum") && $0.arguments["x-dead-letter-strategy"] == .string("at-least-once")
                    && $0.arguments["x-overflow"] == .string("reject-publish")
            })
            #expect(stage.bindings.contains { $0.source == "bridge.dead" && $0.destination == "\(name).dlq" && $0.routingKey == name })
            #expect(topology.users.contains { $0.name == name && $0.passwordHash.isEmpty }, "no password in the committed file")
        }
    }

    @Test func theClassicTiersOfEarlierReleasesAreKnownForTheMigration() throws {
        let retired = try Topology.load(from: Self.file).retiredRetryTiers
        #expect(retired.contains("sage-loader.retry.30s") && retired.contains("alerter.retry.30m"))
        #expect(retired.count == 5 * 4)
    }

    @Test func workerPermissionsAreLeastPrivilege() throws {
        let topology = try Topology.load(from: Self.file)
        let loader = try #require(topology.permissions.first { $0.user == "sage-loader" })
        let configure = try Regex(loader.configure), write = try Regex(loader.write), read = try Regex(loader.read)
        #expect("sage-loader.delay.30s".wholeMatch(of: configure) != nil)
        #expect("transformer".wholeMatch(of: configure) == nil)
        #expect("bridge.audit".wholeMatch(of: write) != nil)
        #expect("bridge.events".wholeMatch(of: write) == nil)
        #expect("bridge.commands".wholeMatch(of: read) != nil)
        #expect("transformer".wholeMatch(of: read) == nil)
    }

    /// RabbitMQ matches a topic permission's regular expression anywhere in the routing key (`re:run`), as here.
    @Test func noWorkerWritesTheDefaultExchangeAndEachPublishesOnlyItsOwnRoutingKeys() throws {
        let topology = try Topology.load(from: Self.file)
        for permission in topology.permissions {
            #expect("amq.default".wholeMatch(of: try Regex(permission.write)) == nil, "\(permission.user) may write the default exchange")
        }
        func may(_ user: String, _ exchange: String, _ key: String) throws -> Bool {
            let permission = try #require(topology.topicPermissions.first { $0.user == user && $0.exchange == exchange },
                                          "\(user) has no topic permission on \(exchange)")
            return key.firstMatch(of: try Regex(permission.write)) != nil
        }
        #expect(try !may("transformer", "bridge.commands", "sage.journal.settlement"), "the transformer must not skip the fraud scorer")
        #expect(try may("transformer", "bridge.commands", "sage.order.update"))
        #expect(try may("fraud-scorer", "bridge.commands", "sage.journal.refund"))
        #expect(try !may("sage-loader", "bridge.audit", "audit.review_approved.console"))
        #expect(try may("sage-loader", "bridge.audit", "audit.reconciliation.mismatched"))
        #expect(try !may("transformer", "bridge.retry", "sage-loader.delay.5s"))
        #expect(try may("alerter", "bridge.dead", "alerter"))
        for stage in ["transformer", "fraud-scorer", "sage-loader", "heartland-loader", "alerter"] {
            for tier in try topology.stage(stage).retryQueues {
                #expect(topology.bindings.contains { $0.source == "bridge.retry" && $0.destination == tier.name && $0.routingKey == tier.name })
            }
            #expect(try topology.stage(stage).retryExchange == "bridge.retry")
        }
    }
}

@Suite struct MessageContractTests {
    @Test func derivedMessageIDsAreStableAndDistinct() {
        #expect(MessageID.derived("m1", "stage", "0") == MessageID.derived("m1", "stage", "0"))
        #expect(MessageID.derived("m1", "stage", "0") != MessageID.derived("m1", "stage", "1"))
        #expect(MessageID.derived("a").count == 36)
        // Derived ids are stored in ledgers and inboxes: pinned to what they were before the hash became StableHash's FNV1a.
        #expect(MessageID.derived("msg-1", "hop") == "5e71ae30-0c0d-2754-80e6-1c5fe3ef57b9")
        #expect(MessageID.derived("a") == "af63dc4c-8601-ec8c-2802-1a861341e28b")
        #expect(MessageID.derived() == "cbf29ce4-8422-2325-8422-2325cbf29ce4")
        // Three parts, an empty one and a non-ASCII one: hashed as joined by U+001F, as they were when joined first.
        #expect(MessageID.derived("m1", "stage", "0") == "0da81361-3a45-07dd-bcfa-3bec771108ac")
        #expect(MessageID.derived("héllo", "", "x") == "c9c628fc-1225-982a-772a-e1106ef51320")
        #expect(MessageID.derived("") == MessageID.derived())
    }

    @Test func outboundCarriesTheContractHeaders() {
        let out = OutboundMessage(exchange: "bridge.commands", routingKey: "sage.journal.post", body: Array("{}".utf8),
                                  idempotencyKey: "heartland:batch:7", schema: "bridge.journal.v1")
        let amqp = out.amqpMessage(correlationID: "c1", messageID: "m1", traceparent: "00-abc-def-01")
        #expect(amqp.properties.correlationID == "c1")
        #expect(amqp.properties.type == "sage.journal.post")
        #expect(amqp.properties.persistent)
        #expect(amqp.properties.contentType == "application/json")
        #expect(amqp.properties.headers[Header.idempotencyKey] == .string("heartland:batch:7"))
        #expect(amqp.properties.headers[Header.schema] == .string("bridge.journal.v1"))
        #expect(amqp.properties.headers[Header.traceparent] == .string("00-abc-def-01"))
    }

    @Test func errorsAreClassified() {
        #expect(StageError.classify(StageError.permanent("x")).errorClass == .permanent)
        #expect(StageError.classify(URLError(.timedOut)).errorClass == .transient)
        #expect(StageError.classify(DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bad"))).errorClass == .permanent)
    }

    @Test func cardNumbersAreMasked() {
        #expect(CardMask.mask("card 4111111111111111 declined") == "card 411111******1111 declined")
        #expect(CardMask.mask("4111 1111 1111 1111") == "4111 11** **** 1111")
        #expect(CardMask.mask("order 1234567890123") == "order 1234567890123", "not Luhn-valid: left alone")
        // Inside an identifier (letters on both sides) a Luhn-valid run is part of the id, not a card.
        #expect(CardMask.mask("refund TRN_AB4111111111111111CD posted") == "refund TRN_AB4111111111111111CD posted")
        #expect(CardMask.mask("card=4111111111111111;") == "card=411111******1111;")
        #expect(CardMask.mask("x4111111111111111") == "x411111******1111", "a letter on one side only: still masked")
        #expect(CardMask.mask("amount 12.50") == "amount 12.50")
    }
}

@Suite struct AMQPURLTests {
    @Test func parsesPlainAndTLSURLs() throws {
        let plain = try AMQPURL("amqp://loader:s%40cret@rabbit:5673/bridge?heartbeat=10")
        #expect(!plain.useTLS && plain.host == "rabbit" && plain.port == 5673 && plain.vhost == "bridge")
        #expect(plain.user == "loader" && plain.password == "s@cret" && plain.heartbeatSeconds == 10)
        #expect(!plain.description.contains("s@cret"))
        let tls = try AMQPURL("amqps://u:p@rabbit/")
        #expect(tls.useTLS && tls.port == 5671 && tls.vhost == "/")
        #expect(try AMQPURL("amqp://rab%62it/").host == "rabbit", "percent-decoded")
        #expect(try AMQPURL("amqp://Rabbit.Example:1/").host == "Rabbit.Example")
        #expect(try AMQPURL("amqp://bücher.example/").host == "xn--bcher-kva.example", "a Unicode name in the form DNS resolves")
        #expect(try AMQPURL("amqp://[::1]:5672/").host == "::1", "an IPv6 address as the resolver takes it")
        #expect(try AMQPURL("amqp:///").host == "localhost")
    }

    @Test func rejectsOtherSchemesAndBadOptions() {
        #expect(throws: AMQPError.self) { try AMQPURL("http://rabbit") }
        #expect(throws: AMQPError.self) { try AMQPURL("amqp://rabbit?heartbeat=soon") }
    }

    @Test func aClusterIsAListOfNodes() throws {
        let nodes = try AMQPURL.list("amqp://u:p%2Cq@rmq1:5672/, amqp://u:p%2Cq@rmq2:5672/,amqp://u:p%2Cq@rmq3:5672/?heartbeat=5")
        #expect(nodes.map(\.host) == ["rmq1", "rmq2", "rmq3"])
        #expect(nodes.allSatisfy { $0.password == "p,q" } && nodes[2].heartbeatSeconds == 5)
        #expect(try AMQPURL.list("amqp://rabbit/").count == 1)
        #expect(throws: AMQPError.self) { try AMQPURL.list(" , ") }
        #expect(throws: AMQPError.self) { try AMQPURL.list("amqp://rmq1/,http://rmq2") }
    }
}

/// Alert kinds and audit events are names in code and the same strings on the wire; a kind or event this version does
/// not know (a newer stage's) still decodes, and a notice that cannot be encoded is not sent empty.
@Suite struct NoticeNameTests {
    @Test func kindsAndEventsAreWrittenAsTheirStrings() throws {
        let alert = AlertNotice(kind: .deadLettered, severity: "error", stage: "sage-loader", reason: "r", at: Date(timeIntervalSince1970: 0))
        let json = String(decoding: try OutboundMessage(exchange: "bridge.alerts", routingKey: AlertKind.deadLettered.routingKey("sage-loader"),
                                                        json: alert).body, as: UTF8.self)
        #expect(json == #"{"at":"1970-01-01T00:00:00.000Z","kind":"dead_lettered","reason":"r","schema":"bridge.alert.v1","severity":"error","stage":"sage-loader"}"#)
        #expect(AlertKind.deadLettered.routingKey("sage-loader") == "alert.dead_lettered.sage-loader")
        #expect(AuditEvent.hop.routingKey("transformer") == "audit.hop.transformer")
        #expect(AuditEvent.customerReview.routingPrefix == "audit.customer_review.")
        #expect(AuditNotice(event: .heldForReview, stage: "fraud-scorer", detail: "d").event == "held_for_review")
        #expect(Set(AlertKind.allCases.map(\.rawValue)).count == AlertKind.allCases.count)
        #expect(Set(AuditEvent.allCases.map(\.rawValue)).count == AuditEvent.allCases.count)
    }

    @Test func anUnknownKindOrEventStillDecodes() throws {
        let alert = try JSONDecoder().decode(AlertNotice.self, from: Data(#"""
            {"at":"2026-11-20T15:00:00.000Z","kind":"kind_of_a_later_release","reason":"r","schema":"bridge.alert.v1","severity":"warning","stage":"s"}
            """#.utf8))
        #expect(alert.kind == "kind_of_a_later_release")
        #expect(AlertKind(rawValue: alert.kind) == nil)
        let audit = try JSONDecoder().decode(AuditNotice.self, from: Data(#"""
            {"at":"2026-11-20T15:00:00.000Z","event":"event_of_a_later_release","detail":"d","schema":"bridge.audit.v1","stage":"s"}
            """#.utf8))
        #expect(audit.event == "event_of_a_later_release")
    }

    struct Unencodable: Encodable {
        struct Refused: Error {}
        func encode(to encoder: any Encoder) throws { throw Refused() }
    }

    @Test func aNoticeThatCannotBeEncodedIsNotSentEmpty() throws {
        let logger = Logger(label: "test")
        #expect(OutboundMessage.notice(Unencodable(), exchange: "bridge.alerts", routingKey: "alert.x.y", logger: logger) == nil)
        let alert = AlertNotice(kind: .targetFailing, severity: "warning", stage: "s", reason: "r")
        let message = try #require(OutboundMessage.notice(alert, exchange: "bridge.alerts", routingKey: "alert.target_failing.s", logger: logger))
        #expect(try JSONDecoder().decode(AlertNotice.self, from: Data(message.body)) == alert)
    }
}

