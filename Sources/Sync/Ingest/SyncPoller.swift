import AMQP
import Foundation
import Logging
import Messaging
import Metrics
import ServiceLifecycle

/// A poller that sweeps one side every `interval`: each sweep publishes what changed, with
/// confirms, then commits fingerprints and watermarks. A failed sweep commits nothing and is
/// repeated whole (the same message ids: loaders absorb the repeats); the third failure in a row
/// raises an alert.
public protocol SyncSweeper: Sendable {
    var source: String { get }
    func sweep() async throws -> SweepReport
}

public struct SweepReport: Sendable, Equatable {
    public var published: Int
    public var unchanged: Int
}

public final class SyncPollingService<Sweeper: SyncSweeper>: Service, Sendable {
    let sweeper: Sweeper
    let interval: Duration
    let publisher: any MessagePublisher
    let logger: Logger
    let alertAfterFailures = 3

    public init(sweeper: Sweeper, interval: Duration, publisher: any MessagePublisher, logger: Logger) {
        self.sweeper = sweeper
        self.interval = interval
        self.publisher = publisher
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let report = try await self.sweeper.sweep()
                    if failures > 0 { self.logger.notice("sync polling works again", metadata: ["source": "\(self.sweeper.source)"]) }
                    failures = 0
                    if report.published > 0 {
                        self.logger.info("sync sweep", metadata: ["source": "\(self.sweeper.source)", "published": "\(report.published)",
                                                                  "unchanged": "\(report.unchanged)"])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    self.logger.warning("sync sweep failed", metadata: ["source": "\(self.sweeper.source)", "error": "\(error)",
                                                                        "consecutive_failures": "\(failures)"])
                    if failures == self.alertAfterFailures { await self.alert("\(self.sweeper.source) sync polling failed \(failures) times in a row: \(error)") }
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    func alert(_ reason: String) async {
        let stage = sweeper.source
        let notice = AlertNotice(kind: .sourceUnavailable, severity: "warning", stage: stage, reason: reason, attempt: nil,
                                 correlationId: "\(stage):sync", idempotencyKey: nil)
        do {
            let message = try OutboundMessage(exchange: "bridge.alerts", routingKey: AlertKind.sourceUnavailable.routingKey(stage), json: notice)
                .amqpMessage(correlationID: "\(stage):sync", messageID: MessageID.random(), traceparent: nil)
            try await publisher.publish([message])
        } catch {
            logger.error("could not publish the alert", metadata: ["error": "\(error)"])
        }
    }
}

enum SyncMetrics {
    static func published(_ source: String, _ count: Int) {
        Counter(label: "bridge_sync_published_total", dimensions: [("source", source)]).increment(by: count)
    }

    /// Records seen again whose owned fields did not change: edge repeats and the bridge's own writes (echoes).
    static func unchanged(_ source: String, _ count: Int) {
        Counter(label: "bridge_sync_unchanged_total", dimensions: [("source", source)]).increment(by: count)
    }
}
