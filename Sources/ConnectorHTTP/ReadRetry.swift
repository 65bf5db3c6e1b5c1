import Foundation

/// A read (GET) asked again, at once, when the server answered as a gateway or a busy server does for a while (500, 502,
/// 503, 504) or the connection was refused or dropped: a read changes nothing at Heartland or Sage, so asking again is
/// safe, and a stage's handling is several requests that must all succeed, so each failed read would otherwise cost the
/// whole message a round of its stage's delay tiers. Not asked again: a timeout (it has cost the whole timeout already), a
/// 429 (the stage pauses for its `Retry-After`), and anything but a read (docs/HTTP.md, "Reads asked again").
public enum ReadRetry {
    /// The statuses worth asking again.
    public static let statuses: Set<Int> = [500, 502, 503, 504]

    /// The failures worth asking again: no answer because the connection was refused or dropped.
    public static func worthAskingAgain(_ failure: ConnectorTransport.Failure) -> Bool {
        failure.kind == .connectionRefused || failure.kind == .connectionLost
    }

    /// 0.2 s before the first retry, four times longer before each next one up to 10 s (the settings allow ten retries, and
    /// the tenth would otherwise wait 14 hours), each ±50 % so that replicas do not ask together.
    public static func pause(before retry: Int) -> Duration {
        .milliseconds(Int(min(200 * pow(4, Double(retry - 1)), 10_000) * Double.random(in: 0.5...1.5)))
    }

    /// `attempt`'s outcome, asked again up to `retries` times while `askAgain` says the outcome is worth it, pausing
    /// `pause(before:)` in between; `retried` hears of each retry before its pause. A cancelled task is not asked again: it
    /// gets the outcome it has.
    public static func run<Answer, Failure: Error>(
        retries: Int, askAgain: (Result<Answer, Failure>) -> Bool, retried: (Result<Answer, Failure>, Int) -> Void,
        _ attempt: () async throws(Failure) -> Answer
    ) async throws(Failure) -> Answer {
        var retry = 0
        while true {
            let outcome: Result<Answer, Failure>
            do throws(Failure) {
                outcome = .success(try await attempt())
            } catch {
                outcome = .failure(error)
            }
            guard retry < retries, askAgain(outcome), !Task.isCancelled else { return try outcome.get() }
            retry += 1
            retried(outcome, retry)
            do {
                try await Task.sleep(for: pause(before: retry))
            } catch {
                return try outcome.get()
            }
        }
    }
}
