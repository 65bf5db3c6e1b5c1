import Foundation
import HeartlandConnector
import Logging
import ServiceLifecycle

/// The scheduled half of ingest: lists Heartland's CLOSED batches for the business days since the
/// last complete sweep (a catch-up after downtime; `catchUpDays` on a first start), the card refunds
/// created in those days, and its completed (`PROCESSED`) pay runs, and records each in the inbox. Records a webhook already delivered add a
/// sighting, nothing more. The watermark only
/// moves after a sweep in which every day was listed, so a failed sweep is repeated whole.
public final class HeartlandPoller: Service, Sendable {
    public struct Settings: Sendable {
        public var interval: Duration = .seconds(300)
        public var catchUpDays = 7
        /// Consecutive failed sweeps before an alert.
        public var alertAfterFailures = 3
        public init() {}
    }

    static let watermarkName = "batches.swept_through"

    let client: any HeartlandClient
    let inbox: IngestInbox
    let alerts: IngestAlerts
    let settings: Settings
    let logger: Logger
    let today: @Sendable () -> Date

    public init(client: any HeartlandClient, inbox: IngestInbox, alerts: IngestAlerts, settings: Settings = Settings(), logger: Logger,
                today: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.inbox = inbox
        self.alerts = alerts
        self.settings = settings
        self.logger = logger
        self.today = today
    }

    public func run() async throws {
        await PollingLoop(name: "poller", interval: settings.interval, alertAfterFailures: settings.alertAfterFailures, alerts: alerts, logger: logger)
            .run { try await self.sweep() }
    }

    /// One sweep; returns how many records were new to the inbox.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = today()
        let last = try await inbox.pollState(Self.watermarkName).flatMap(Self.day)
        // From the day before the last complete sweep (a batch closing late in the day) through tomorrow
        // in UTC (a store west of UTC is still on the previous day, one far east already on the next).
        let from = Self.calendar.date(byAdding: .day, value: last == nil ? -settings.catchUpDays : -1, to: last ?? now)!
        let through = Self.calendar.date(byAdding: .day, value: 1, to: now)!
        var new = 0
        var day = from
        while day <= through {
            for batch in try await client.batches(BatchQuery(status: .closed, businessDay: Self.text(day))).collect() where batch.status == .closed {
                if try await inbox.accept(key: HeartlandIdempotencyKey.batch(batch.id).description, kind: "batch", sourceID: batch.id, seenBy: "poller") {
                    new += 1
                    logger.info("closed batch found by polling", metadata: ["batch": "\(batch.id)", "business_day": "\(batch.businessDay ?? "?")"])
                }
            }
            day = Self.calendar.date(byAdding: .day, value: 1, to: day)!
        }
        // Card refunds since the same day: each is posted on its own; the webhook normally comes first.
        for refund in try await client.transactions(TransactionQuery(type: .refund, fromDay: Self.text(from), toDay: Self.text(through))).collect()
        where refund.type == .refund {
            if try await inbox.accept(key: HeartlandIdempotencyKey.transaction(refund.id).description, kind: "refund", sourceID: refund.id, seenBy: "poller") {
                new += 1
                logger.info("card refund found by polling", metadata: ["transaction": "\(refund.id)"])
            }
        }
        for run in try await client.payRuns(status: .processed) {
            if try await inbox.accept(key: HeartlandIdempotencyKey.payRun(run.id).description, kind: "pay_run", sourceID: run.id, seenBy: "poller") {
                new += 1
                logger.info("completed pay run found by polling", metadata: ["pay_run": "\(run.id)"])
            }
        }
        try await inbox.setPollState(Self.watermarkName, Self.text(now))
        return new
    }

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func text(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    public static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: 12))
    }
}
