import Logging
import ServiceLifecycle

/// The loop of a scheduled sweep of Heartland (batches, the gateway feed): sweep, wait, again, until graceful
/// shutdown. A failed sweep is logged and repeated at the next tick; `alertAfterFailures` failures in a row raise
/// one `source_unavailable` alert, and the first success after them is logged.
struct PollingLoop: Sendable {
    var name: String
    var interval: Duration
    var alertAfterFailures: Int
    var alerts: IngestAlerts
    var logger: Logger

    func run(_ sweep: @escaping @Sendable () async throws -> Int) async {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let found = try await sweep()
                    if failures >= alertAfterFailures {
                        logger.notice("Heartland polling works again", metadata: ["poller": "\(name)", "failed_sweeps": "\(failures)"])
                    }
                    failures = 0
                    logger.log(level: found > 0 ? .info : .debug, "poll sweep done", metadata: ["poller": "\(name)", "new": "\(found)"])
                } catch is CancellationError {
                    return
                } catch {
                    failures += 1
                    logger.warning("poll sweep failed", metadata: ["poller": "\(name)", "consecutive_failures": "\(failures)", "error": "\(error)"])
                    if failures == alertAfterFailures {
                        await alerts.raise(kind: .sourceUnavailable, severity: "warning",
                                           reason: "polling Heartland (\(name)) failed \(failures) times in a row: \(error)", key: name)
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
