import AMQP
import ArgumentParser
import BridgeClock
import BridgeSettings
import BrokerAdmin
import Foundation
import Messaging

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Per stage: its queues (work, retry tiers, dlq), consumers, rates and the oldest message's age.",
        discussion: """
            The age is now minus the message's AMQP timestamp (when its producer published it); where it comes from:
              work queue   the workers: the oldest message a replica is handling now (quorum queues have no
                           head timestamp in RabbitMQ, and reading their head would count against x-delivery-limit);
                           give --metrics-url (each worker's /metrics) or --prometheus-url
              delay tiers  none: quorum queues have no head timestamp; a message leaves its tier when its TTL
                           (the tier's delay) is over, so the note gives that bound
              dlq          the parked messages themselves, read and left in place as `dlq list` does (needs --amqp-url)
            """)
    @OptionGroup var broker: BrokerOptions
    @Flag(help: "Show every queue, not only the bridge's.") var all = false
    @Option(name: .customLong("metrics-url"), parsing: .singleValue,
            help: "A worker's /metrics URL (repeatable). Default: $BRIDGE_METRICS_URLS, comma-separated.")
    var metricsURLs: [String] = EnvironmentReader.current.value("BRIDGE_METRICS_URLS").map {
        $0.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
    } ?? []
    @Option(name: .customLong("prometheus-url"), help: "Prometheus that scrapes the workers. Default: $BRIDGE_PROMETHEUS_URL.")
    var prometheusURL: String?
    @Option(help: "Parked messages read per dead-letter queue to find the oldest.") var dlqScan: Int = 500

    func run() async throws {
        let topology = try broker.loadTopology()
        let stageNames = topology.queues.map(\.name).filter { name in topology.queues.contains { $0.name == "\(name).dlq" } }
        let stages = try stageNames.map { try topology.stage($0) }
        async let statistics = broker.management().queues()
        async let workers = WorkerFigures.collect(
            metricsURLs: metricsURLs, prometheusURL: prometheusURL ?? ProcessInfo.processInfo.environment["BRIDGE_PROMETHEUS_URL"])
        let parked = await parkedAges(stages.map(\.name))
        let queues = Dictionary(try await statistics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let figures = await workers
        let now = Date()

        var rows: [QueueStatus] = []
        for stage in stages {
            rows.append(QueueStatus(stage: stage.name, role: "work", stats: queues[stage.workQueue.name], name: stage.workQueue.name)
                .withWorkQueueAge(figures, now: now))
            for tier in stage.retryQueues {
                rows.append(QueueStatus(stage: stage.name, role: "retry", stats: queues[tier.name], name: tier.name)
                    .withHeadAge(now: now, tierDelay: stage.retryPolicy.tiers.first { $0.queue == tier.name }?.delay))
            }
            rows.append(QueueStatus(stage: stage.name, role: "dlq", stats: queues[stage.deadLetterQueue.name], name: stage.deadLetterQueue.name)
                .withParkedAge(parked[stage.name], scanLimit: dlqScan, now: now))
        }
        if all {
            let known = Set(rows.map(\.queue))
            for stats in queues.values.sorted(by: { $0.name < $1.name }) where !known.contains(stats.name) {
                rows.append(QueueStatus(stage: "", role: "other", stats: stats, name: stats.name).withHeadAge(now: now))
            }
        }

        if broker.json { print(try Output.json(rows)); return }
        var previous = ""
        print(Output.table(["STAGE", "QUEUE", "READY", "UNACKED", "CONSUMERS", "IN/s", "OUT/s", "ACK/s", "OLDEST", "NOTE"], rows.map { row in
            defer { previous = row.stage }
            return [row.stage == previous ? "" : row.stage, row.queue, String(row.ready), String(row.unacked), String(row.consumers),
                    String(format: "%.1f", row.publishRate), String(format: "%.1f", row.deliverRate), String(format: "%.1f", row.ackRate),
                    row.oldestMessageAgeSeconds.map { (row.oldestIsLowerBound ? "≥" : "") + Self.age($0) } ?? (row.ready + row.unacked > 0 ? "?" : "-"),
                    row.note ?? ""]
        }))
        for problem in figures.problems { print("could not read worker figures from \(problem)") }
        if parked.isEmpty && !stages.isEmpty { print("dead-letter ages need the broker: pass --amqp-url or set BRIDGE_AMQP_URL") }
    }

    /// Per stage, the parked messages (read and left in place). Empty when no AMQP URL is given.
    private func parkedAges(_ stages: [String]) async -> [String: Result<[Date?], any Error>] {
        guard broker.amqpURL != nil || ProcessInfo.processInfo.environment["BRIDGE_AMQP_URL"] != nil,
              let session = try? await broker.session() else { return [:] }
        var result: [String: Result<[Date?], any Error>] = [:]
        for stage in stages {
            do {
                result[stage] = .success(try await DeadLetterChannel(stage: stage).list(session: session, limit: dlqScan)
                    .map(\.delivery.properties.timestamp))
            } catch {
                result[stage] = .failure(error)
            }
        }
        await session.close()
        return result
    }

    /// `42s`, `4m12s`, `3h04m`, `2d03h`.
    static func age(_ seconds: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m\(two(seconds % 60))s"
        case ..<86400: return "\(seconds / 3600)h\(two(seconds % 3600 / 60))m"
        default: return "\(seconds / 86400)d\(two(seconds % 86400 / 3600))h"
        }
    }
}

/// One row of `bridgectl status` (and one element of its `--json` array).
struct QueueStatus: Encodable {
    var stage: String
    /// `work`, `retry`, `dlq` or `other`.
    var role: String
    var queue: String
    var ready = 0, unacked = 0, consumers = 0
    var publishRate = 0.0, deliverRate = 0.0, ackRate = 0.0
    var oldestMessageAgeSeconds: Int?
    /// RFC 3339 publish time of that message.
    var oldestMessagePublishedAt: String?
    /// Where the age comes from: `workers`, `broker`, `parked messages`.
    var oldestFrom: String?
    /// The dead-letter queue holds more than were read: the age is at least this.
    var oldestIsLowerBound = false
    var note: String?

    init(stage: String, role: String, stats: QueueStatistics?, name: String) {
        self.stage = stage
        self.role = role
        queue = name
        guard let stats else { note = "missing on the broker (run `bridgectl topology apply`)"; return }
        ready = stats.messagesReady
        unacked = stats.messagesUnacknowledged
        consumers = stats.consumers
        publishRate = stats.publishRate
        deliverRate = stats.deliverRate
        ackRate = stats.ackRate
        headTimestamp = stats.headMessageTimestamp
    }

    private var headTimestamp: Date?
    private var isEmpty: Bool { ready + unacked == 0 }

    enum CodingKeys: String, CodingKey {
        case stage, role, queue, ready, unacked, consumers, publishRate, deliverRate, ackRate
        case oldestMessageAgeSeconds, oldestMessagePublishedAt, oldestFrom, oldestIsLowerBound, note
    }

    private mutating func setOldest(_ published: Date, from source: String, now: Date) {
        oldestMessageAgeSeconds = max(0, Int(now.timeIntervalSince(published)))
        oldestMessagePublishedAt = Timestamps.iso8601(published)
        oldestFrom = source
    }

    func withHeadAge(now: Date, tierDelay: Duration? = nil) -> QueueStatus {
        var row = self
        if let head = headTimestamp, !isEmpty {
            row.setOldest(head, from: "broker", now: now)
        } else if !isEmpty && role == "retry" {
            row.note = tierDelay.map { "each back in \(RetryTier.label($0)) at most (quorum tier: no head timestamp)" } ?? "head message has no timestamp"
        }
        return row
    }

    func withWorkQueueAge(_ workers: WorkerFigures, now: Date) -> QueueStatus {
        var row = self
        switch workers.oldestInFlight[stage] {
        case .some(.some(let published)):
            row.setOldest(published, from: "workers", now: now)
            if !isEmpty { row.note = "oldest being handled" }
        case .some(.none):
            if !isEmpty { row.note = "workers report none in hand (circuit open, or between batches)" }
        case .none:
            guard !isEmpty else { break }
            if consumers == 0 {
                row.note = "NO CONSUMER"
            } else if !workers.consulted {
                row.note = "age: pass --metrics-url or --prometheus-url"
            } else {
                row.note = "no worker reported"
            }
        }
        if consumers == 0 && !isEmpty { row.note = "NO CONSUMER" }
        return row
    }

    func withParkedAge(_ parked: Result<[Date?], any Error>?, scanLimit: Int, now: Date) -> QueueStatus {
        var row = self
        switch parked {
        case .success(let stamps):
            // The read is exact where the management API lags (≈ 5 s for quorum queues).
            row.ready = max(row.ready, stamps.count)
            if let oldest = stamps.compactMap({ $0 }).min() {
                row.setOldest(oldest, from: "parked messages", now: now)
                row.oldestIsLowerBound = stamps.count >= scanLimit
            }
        case .failure(let error):
            row.note = "could not read: \(error)"
        case nil:
            break
        }
        if row.ready > 0 { row.note = "DEAD LETTERS" + (row.note.map { "; \($0)" } ?? "") }
        return row
    }
}
