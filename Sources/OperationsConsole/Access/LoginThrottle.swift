import Foundation
import Synchronization

/// Failed logins counted per user name and per client address over a sliding window: once either
/// reaches its limit, further attempts for that user, or from that address, are refused — even with
/// the right password — until the oldest failure leaves the window. A success clears the user's
/// count (not the address's: one valid account must not reset a guessing client).
///
/// Kept in memory, like the sessions: a restart of the alerter forgets the counts.
/// How many failed logins are allowed, per user name and per client address, within `window`.
public struct LoginLimits: Sendable {
    public var perUser = 5
    public var perAddress = 20
    public var window: TimeInterval = 15 * 60
    public init(perUser: Int = 5, perAddress: Int = 20, window: TimeInterval = 15 * 60) {
        self.perUser = perUser
        self.perAddress = perAddress
        self.window = window
    }
}

final class LoginThrottle: Sendable {
    typealias Policy = LoginLimits

    enum Refusal: Equatable {
        case user(String, retryAfter: TimeInterval)
        case address(String, retryAfter: TimeInterval)

        var retryAfter: TimeInterval {
            switch self { case .user(_, let after), .address(_, let after): return after }
        }

        var message: String {
            let minutes = max(1, Int((retryAfter / 60).rounded(.up)))
            let wait = "try again in \(minutes) minute\(minutes == 1 ? "" : "s")"
            switch self {
            case .user(let name, _): return "Too many failed logins for \(name): \(wait), or ask an administrator."
            case .address: return "Too many failed logins from your address: \(wait)."
            }
        }
    }

    let policy: Policy
    private let now: @Sendable () -> Date
    private let failures = Mutex<(users: [String: [Date]], addresses: [String: [Date]])>(([:], [:]))

    init(policy: Policy = Policy(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.now = now
    }

    /// Nil when an attempt may be checked; otherwise why not. Call before checking the password.
    func refusal(user: String?, address: String?) -> Refusal? {
        let now = now(), policy = policy
        return failures.withLock { state in
            if let address, let after = Self.blocked(&state.addresses, address, limit: policy.perAddress, window: policy.window, now: now) {
                return .address(address, retryAfter: after)
            }
            if let user, let after = Self.blocked(&state.users, user, limit: policy.perUser, window: policy.window, now: now) {
                return .user(user, retryAfter: after)
            }
            return nil
        }
    }

    func failed(user: String?, address: String?) {
        let now = now()
        failures.withLock { state in
            if let user { state.users[user, default: []].append(now) }
            if let address { state.addresses[address, default: []].append(now) }
            // Bounded memory: names and addresses with nothing recent are forgotten.
            if state.users.count + state.addresses.count > 10_000 {
                let cutoff = now.addingTimeInterval(-policy.window)
                state.users = state.users.filter { $0.value.contains { $0 > cutoff } }
                state.addresses = state.addresses.filter { $0.value.contains { $0 > cutoff } }
            }
        }
    }

    func succeeded(user: String) {
        _ = failures.withLock { $0.users.removeValue(forKey: user) }
    }

    private static func blocked(_ table: inout [String: [Date]], _ key: String, limit: Int, window: TimeInterval, now: Date) -> TimeInterval? {
        let recent = (table[key] ?? []).filter { $0 > now.addingTimeInterval(-window) }
        table[key] = recent.isEmpty ? nil : recent
        guard recent.count >= limit else { return nil }
        // Free again when enough failures have aged out to fall below the limit.
        return recent[recent.count - limit].addingTimeInterval(window).timeIntervalSince(now)
    }
}
