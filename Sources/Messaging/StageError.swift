import AMQP
import Foundation

/// How a handler says a message failed. Anything else it throws is classified by `StageError.classify`.
public enum StageError: Error, Sendable, CustomStringConvertible {
    /// Worth retrying later: timeouts, 5xx, 429, a target that is down. `retryAfter` from a 429 picks a tier at least that long.
    case transient(String, retryAfter: Duration? = nil)
    /// Retrying cannot help: invalid data, an unknown GL account, an unmapped code. Goes to the dead-letter queue at once.
    case permanent(String)
    /// Permanent, and shared by many messages until a person fixes one cause (a store the mapping gives no account):
    /// parked like `permanent`, but every message held for the same `holdKey` raises one alert between them, not one each.
    case held(String, holdKey: String)

    public var description: String {
        switch self {
        case .transient(let reason, _): return reason
        case .permanent(let reason): return reason
        case .held(let reason, _): return reason
        }
    }

    public var errorClass: ErrorClass {
        switch self {
        case .permanent, .held: return .permanent
        case .transient: return .transient
        }
    }

    /// The cause shared by held messages, when the error is a hold.
    public var holdKey: String? {
        if case .held(_, let key) = self { return key }
        return nil
    }

    /// The message id of the one alert of a hold: the stage's alert and the alerter's copy of the parked message agree on it,
    /// so the alerter counts the hold once however many messages it holds.
    public static func holdAlertID(_ holdKey: String) -> String { MessageID.derived("hold", holdKey) }

    public var retryAfter: Duration? {
        if case .transient(_, let after) = self { return after }
        return nil
    }

    /// Errors a handler did not classify: undecodable input is permanent, everything else transient
    /// (a retry that cannot help ends in the dead-letter queue after the last tier anyway).
    public static func classify(_ error: any Error) -> StageError {
        switch error {
        case let stageError as StageError: return stageError
        case is DecodingError: return .permanent("undecodable message: \(error)")
        case let amqp as AMQPError: return .transient(amqp.description)
        default: return .transient(String(describing: error))
        }
    }
}

/// What a handler did with a message.
public enum StageOutcome: Sendable {
    /// Done; publish these (possibly none) and ack the input.
    case publish([OutboundMessage])
    /// Already done earlier (same idempotency key): ack and report `duplicate_skipped` on `bridge.audit`;
    /// `also` are results to publish all the same (e.g. a report the first attempt may not have sent).
    case duplicate(String, also: [OutboundMessage] = [])
    /// `outcome`, and once the broker has confirmed everything it publishes (before the input is acked),
    /// `then` runs: e.g. the loader records that a journal's notices are out. A crash before that leaves the
    /// record unwritten and the input unacked, so the notices are derived and sent again: at least once.
    indirect case confirming(StageOutcome, then: @Sendable () async throws -> Void)

    public static let done = StageOutcome.publish([])

    /// The outcome without its confirmation steps.
    public var base: StageOutcome {
        if case .confirming(let outcome, _) = self { return outcome.base }
        return self
    }

    /// What to run once the outcome's messages are confirmed, innermost first.
    public var onConfirmed: [@Sendable () async throws -> Void] {
        if case .confirming(let outcome, let then) = self { return outcome.onConfirmed + [then] }
        return []
    }
}
