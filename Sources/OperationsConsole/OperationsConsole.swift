import AMQP
import Alerter
import BrokerAdmin
import Foundation
import FraudScoring
import MappingEditor
import Logging
import Messaging
import Synchronization

/// The operations console (issue 7): pipeline overview, dead letters, the fraud review queue,
/// reconciliation reports and alerts, for finance and SRE, served by the alerter. Every page at
/// `/X` has a JSON twin at `/api/X`. Reading needs a logged-in user or an API token; actions need the
/// role `ConsoleAction` names, the session's CSRF token (form posts), and an audit trail that can be
/// written (docs/SECURITY.md).
public final class OperationsConsole: Sendable {
    public struct Configuration: Sendable {
        public var users: ConsoleUsers
        /// API tokens for scripts (`ConsoleTokens`), read again when the file changes; nil: no token is accepted.
        public var tokensFile: String?
        /// The session cookie's `Secure` attribute; turn it off only for plain-HTTP development.
        public var secureCookies = true
        /// Proxies whose `X-Forwarded-For` names the client, for the login limits.
        public var trustedProxies = TrustedProxies()
        /// The stages whose queues and parking lots the console shows.
        public var stages: [String]
        public var operations: OperationsStore
        /// The fraud-scorer's review store (SQLite); nil or missing: the review pages say so.
        public var reviewStorePath: String?
        /// The fraud-scorer's feature store (SQLite), read-only: the evidence on an exception's page; nil or missing: the
        /// page says so.
        public var featureStorePath: String?
        /// Each store's opening hours, as the fraud-scorer has them (`--store-hours`): shown on an out-of-hours exception.
        public var storeHours = StoreHoursFile()
        /// Broker URL for dead letters, releases and audit notices; nil: those pages say so.
        public var amqpURL: String?
        /// RabbitMQ management API (`http://user:pass@host:15672`) for the pipeline overview.
        public var managementURL: String?
        public var vhost: String = "/"
        public var auditExchange: String = "bridge.audit"
        /// At most this many parked messages are read per stage for the dead-letter pages.
        public var deadLetterPageLimit: Int = 500
        /// A browser session ends after this long, or after `sessionIdleTimeout` without a request.
        public var sessionLifetime: TimeInterval = 8 * 3600
        public var sessionIdleTimeout: TimeInterval = 30 * 60
        /// Failed logins allowed per user name and per client address within the window.
        public var loginLimits = LoginLimits()
        /// Uncertain customer matches of the two-way sync (the alerter's); nil: the page says so.
        public var customerReviews: CustomerReviewStore?
        /// The GL mapping page's file, versions, Sage chart and Heartland history; nil: the page says so.
        public var mapping: MappingWorkbench?
        /// The fraud rules on the same page model (`/rules`); nil: the page says so.
        public var rules: RulesWorkbench?
        /// The time, for sessions and login limits (tests move it).
        var clock: @Sendable () -> Date = { Date() }

        public init(users: ConsoleUsers, stages: [String], operations: OperationsStore, reviewStorePath: String?, amqpURL: String?,
                    managementURL: String?) {
            self.users = users
            self.stages = stages
            self.operations = operations
            self.reviewStorePath = reviewStorePath
            self.amqpURL = amqpURL
            self.managementURL = managementURL
        }

        /// Reads the store-hours file the fraud-scorer is given (`--store-hours`), once, at start-up; nil: the default hours.
        public mutating func loadStoreHours(from path: String?) throws {
            storeHours = try path.map { try StoreHoursFile(path: $0) } ?? StoreHoursFile()
        }

        /// The stages of a topology: every queue with a parking lot `S.dlq`.
        public static func stages(in topology: Topology) -> [String] {
            let names = Set(topology.queues.map(\.name))
            return topology.queues.map(\.name).filter { names.contains("\($0).dlq") }
        }
    }

    let configuration: Configuration
    let sessions: SessionStore
    let loginThrottle: LoginThrottle
    let tokens: TokenRegistry
    let logger: Logger
    private let reviewStoreCache = OpenedOnce { try await ReviewStore.open(path: $0) }
    private let eventHistoryCache = OpenedOnce { try await EventHistory.open(path: $0) }

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        sessions = SessionStore(lifetime: configuration.sessionLifetime, idleTimeout: configuration.sessionIdleTimeout, now: configuration.clock)
        loginThrottle = LoginThrottle(policy: configuration.loginLimits, now: configuration.clock)
        tokens = TokenRegistry(path: configuration.tokensFile) { problem in
            logger.error("console API tokens unusable", metadata: ["problem": .string(problem)])
        }
        let legacy = configuration.users.legacyNames
        if !legacy.isEmpty {
            logger.warning("""
                console users still on unsalted SHA-256 passwords: give each a bcrypt line \
                (bridgectl console hash-password NAME ROLE < password-file); the SHA-256 form will be refused in a later release
                """, metadata: ["users": .string(legacy.joined(separator: ", "))])
        }
    }

    // MARK: edges

    func brokerSession() async throws -> AMQPSession {
        guard let raw = configuration.amqpURL else {
            throw ConsoleError.unavailable("the console has no broker URL (BRIDGE_CONSOLE_AMQP_URL or BRIDGE_AMQP_URL)")
        }
        var quiet = logger
        quiet.logLevel = .error
        do {
            return try await AMQPSession.connect(anyOf: try AMQPURL.list(raw), name: "operations-console", logger: quiet)
        } catch {
            throw ConsoleError.unavailable("the broker is not reachable: \(error)")
        }
    }

    func management() throws -> ManagementClient {
        guard let url = configuration.managementURL else {
            throw ConsoleError.unavailable("the console has no management API URL (--management-url or BRIDGE_MANAGEMENT_URL)")
        }
        return try ManagementClient(url: url)
    }

    func reviewStore() async throws -> ReviewStore {
        guard let path = configuration.reviewStorePath, FileManager.default.fileExists(atPath: path) else {
            throw ConsoleError.unavailable("no review store at \(configuration.reviewStorePath ?? "(none)"): "
                                           + "pass --review-store or set BRIDGE_REVIEW_DB to the fraud-scorer's file")
        }
        return try await reviewStoreCache.open(path)
    }

    /// The fraud-scorer's events, read-only, for the evidence of an exception.
    func eventHistory() async throws -> EventHistory {
        guard let path = configuration.featureStorePath else {
            throw ConsoleError.unavailable("the console has no feature store: pass --feature-store or set BRIDGE_FEATURE_STORE to the fraud-scorer's file")
        }
        return try await eventHistoryCache.open(path)
    }

    func knownStage(_ stage: String) throws -> String {
        guard configuration.stages.contains(stage) else { throw ConsoleError.notFound("no stage \(stage) (known: \(configuration.stages.joined(separator: ", ")))") }
        return stage
    }

    // MARK: audit trail

    /// Records an action: in the operations store at once, and on `bridge.audit` for everyone else
    /// (the alerter stores it again under the same message id, which changes nothing). The two are tried apart: a
    /// record the store refuses still goes to `bridge.audit`, where the alerter records it when it can.
    func audit(event: AuditEvent, stage: String, detail: String, actor: String, idempotencyKey: String? = nil, session: AMQPSession?) async {
        let notice = AuditNotice(event: event, stage: stage, detail: detail, idempotencyKey: idempotencyKey, actor: actor)
        let messageID = MessageID.random()
        // The request itself is in the trail already (`auditRequest`): this is its outcome.
        do {
            try await configuration.operations.record(notice, messageID: messageID, correlationID: messageID)
        } catch {
            logger.error("audit notice not recorded in the operations store; it is still published on bridge.audit",
                         metadata: ["event": .string(event.rawValue), "error": .string("\(error)")])
        }
        do {
            let message = try OutboundMessage(exchange: configuration.auditExchange, routingKey: event.routingKey("console"), json: notice,
                                              idempotencyKey: idempotencyKey)
                .amqpMessage(correlationID: messageID, messageID: messageID, traceparent: nil)
            try await session?.publish([message])
        } catch {
            logger.error("audit notice not published on bridge.audit", metadata: ["event": .string(event.rawValue), "error": .string("\(error)")])
        }
    }

    /// Records a notice another component built and published (a review decision). A failure is logged, not dropped
    /// in silence: the notice went to `bridge.audit` too, where the alerter records it under the same message id.
    func recordPublishedAudit(_ message: OutgoingMessage) async {
        do {
            let notice = try JSONDecoder().decode(AuditNotice.self, from: Data(message.body))
            try await configuration.operations.record(notice, messageID: message.properties.messageID ?? MessageID.random(),
                                                      correlationID: message.properties.correlationID)
        } catch {
            logger.error("published audit notice not recorded in the operations store; the alerter records it from bridge.audit",
                         metadata: ["routing_key": .string(message.routingKey), "error": .string("\(error)")])
        }
    }
}

/// A store of the fraud-scorer's (the review store, the feature store) is opened once, when its file exists; a failed
/// opening is tried again on the next request.
private final class OpenedOnce<Store: Sendable>: Sendable {
    private let opening = Mutex<Task<Store, any Error>?>(nil)
    private let make: @Sendable (String) async throws -> Store

    init(_ make: @escaping @Sendable (String) async throws -> Store) {
        self.make = make
    }

    func open(_ path: String) async throws -> Store {
        let task = opening.withLock { opening in
            if let opening { return opening }
            let task = Task { [make] in try await make(path) }
            opening = task
            return task
        }
        do {
            return try await task.value
        } catch {
            opening.withLock { if $0 == task { $0 = nil } }  // the next request tries again
            throw error
        }
    }
}
