import Foundation

/// Every feature the scorer computes for an event. The raw value is the attribute's name in the
/// rule language (`:card_velocity_1h:`) and in the model file.
public enum FeatureName: String, Codable, Sendable, CaseIterable {
    case amount
    case logAmount = "log_amount"
    case isRefund = "is_refund"
    case isVoid = "is_void"
    case isDecline = "is_decline"
    case keyedEntry = "keyed_entry"
    case smallAuth = "small_auth"
    case cardVelocity1h = "card_velocity_1h"
    case cardVelocity24h = "card_velocity_24h"
    case terminalVelocity10m = "terminal_velocity_10m"
    case clerkVelocity1h = "clerk_velocity_1h"
    case amountZStore = "amount_z_store"
    case amountZTerminal = "amount_z_terminal"
    case terminalKeyed1h = "terminal_keyed_1h"
    case terminalDeclines10m = "terminal_declines_10m"
    case terminalSmallAuths10m = "terminal_small_auths_10m"
    case refundUnlinked = "refund_unlinked"
    case refundOverOriginal = "refund_over_original"
    case refundCardMismatch = "refund_card_mismatch"
    case refundTenderMismatch = "refund_tender_mismatch"
    case clerkVoidsShift = "clerk_voids_shift"
    case clerkVoidExcess = "clerk_void_excess"
    case outsideHours = "outside_hours"
    case minutesOutsideHours = "minutes_outside_hours"
    // The counts above judged against the day's own volume (±12 h around the event), so a busy store's ordinary
    // hour does not look like a burst: what the model sees instead of the raw counts (rules may use both).
    case terminalBusyRatio = "terminal_busy_ratio"
    case clerkBusyRatio = "clerk_busy_ratio"
    case terminalKeyedExcess = "terminal_keyed_excess"
    case terminalDeclinesExcess = "terminal_declines_excess"
    case terminalSmallAuthsExcess = "terminal_small_auths_excess"
    case clerkVoidsExcessDay = "clerk_voids_excess_day"
    /// Keyed-in cards rung up by this clerk within ±1 h: a store has one terminal and twenty clerks, so a clerk keying in a
    /// list of numbers stands out where the terminal's count, shared by every clerk, does not (docs/FRAUD.md).
    case clerkKeyed1h = "clerk_keyed_1h"

    /// The features the learned model sees (the raw amount is in there as its logarithm).
    /// The raw counts that grow with a store's volume are left to the rules: the model sees them relative to the
    /// day's volume, so the same model flags as little on a 1,500-ticket day as on a 300-ticket one.
    public static let modelFeatures: [FeatureName] = allCases.filter { !volumeDependent.contains($0) && $0 != .amount }
    public static let volumeDependent: Set<FeatureName> = [
        .terminalVelocity10m, .clerkVelocity1h, .terminalKeyed1h, .terminalDeclines10m, .terminalSmallAuths10m,
        .clerkVoidsShift, .clerkVoidExcess, .clerkKeyed1h,
    ]

    /// The value the model is fed: counts are compressed (`log(1 + n)`) so one burst does not dwarf the rest.
    public func modelValue(_ raw: Double) -> Double {
        switch self {
        case .cardVelocity1h, .cardVelocity24h, .terminalVelocity10m, .clerkVelocity1h, .terminalKeyed1h,
            .terminalDeclines10m, .terminalSmallAuths10m, .clerkVoidsShift, .minutesOutsideHours, .clerkKeyed1h:
            return log1p(max(0, raw))
        case .clerkVoidExcess, .terminalKeyedExcess, .terminalDeclinesExcess, .terminalSmallAuthsExcess, .clerkVoidsExcessDay:
            return raw >= 0 ? log1p(raw) : -log1p(-raw)
        case .terminalBusyRatio, .clerkBusyRatio:
            return log1p(max(0, raw))
        case .amountZStore, .amountZTerminal:
            return min(10, max(-10, raw))
        default:
            return raw
        }
    }

    /// A reason in words, for an analyst: what the feature says about this event.
    public func reason(_ raw: Double) -> String {
        let n = Int(raw.rounded())
        switch self {
        case .amount: return String(format: "amount $%.2f", raw / 100)
        case .logAmount: return String(format: "amount $%.2f", expm1(raw) / 100)
        case .isRefund: return raw > 0 ? "a refund" : "not a refund"
        case .isVoid: return raw > 0 ? "a void" : "not a void"
        case .isDecline: return raw > 0 ? "a declined authorisation" : "an approved transaction"
        case .keyedEntry: return raw > 0 ? "card number keyed in by hand" : "card read by chip, tap or swipe"
        case .smallAuth: return raw > 0 ? "a tiny authorisation (under $2)" : "not a tiny authorisation"
        case .cardVelocity1h: return "\(n) uses of this card within an hour"
        case .cardVelocity24h: return "\(n) uses of this card within a day"
        case .terminalVelocity10m: return "\(n) transactions on this terminal within 10 minutes"
        case .clerkVelocity1h: return "\(n) transactions by this clerk within an hour"
        case .amountZStore: return String(format: "amount %.1f standard deviations from the store's usual", raw)
        case .amountZTerminal: return String(format: "amount %.1f standard deviations from this terminal's usual", raw)
        case .terminalKeyed1h: return "\(n) keyed-in cards on this terminal within an hour"
        case .terminalDeclines10m: return "\(n) declines on this terminal within 10 minutes (card testing?)"
        case .terminalSmallAuths10m: return "\(n) tiny authorisations on this terminal within 10 minutes (card testing?)"
        case .refundUnlinked: return raw > 0 ? "refund with no original sale" : "refund linked to its sale"
        case .refundOverOriginal: return raw > 0 ? "refunds exceed the original sale" : "refunds within the original sale"
        case .refundCardMismatch: return raw > 0 ? "refund to a different card than the sale's" : "refund to the sale's card"
        case .refundTenderMismatch: return raw > 0 ? "refund tender differs from how the sale was paid" : "refund on the sale's tender"
        case .clerkVoidsShift: return "\(n) voids by this clerk in the shift"
        case .clerkVoidExcess: return String(format: "%.1f more voids by this clerk in the shift than the store's usual", raw)
        case .outsideHours: return raw > 0 ? "outside the store's opening hours" : "within opening hours"
        case .minutesOutsideHours: return "\(n) minutes outside the store's opening hours"
        case .terminalBusyRatio: return String(format: "%.1f× this terminal's usual pace for the day", raw)
        case .clerkBusyRatio: return String(format: "%.1f× this clerk's usual pace for the day", raw)
        case .terminalKeyedExcess: return String(format: "%.1f more keyed-in cards on this terminal within an hour than the day's share", raw)
        case .terminalDeclinesExcess: return String(format: "%.1f more declines on this terminal within 10 minutes than the day's share (card testing?)", raw)
        case .terminalSmallAuthsExcess: return String(format: "%.1f more tiny authorisations on this terminal within 10 minutes than the day's share (card testing?)", raw)
        case .clerkVoidsExcessDay: return String(format: "%.1f more voids by this clerk today than the store's share", raw)
        case .clerkKeyed1h: return "\(n) keyed-in cards by this clerk within an hour"
        }
    }
}

/// The features of one event, by name; every feature is present (0 when it does not apply).
public struct FeatureVector: Codable, Sendable, Hashable {
    public private(set) var values: [Double]

    public init() { values = Array(repeating: 0, count: FeatureName.allCases.count) }

    public subscript(_ name: FeatureName) -> Double {
        get { values[Self.index[name]!] }
        set { values[Self.index[name]!] = newValue }
    }

    static let index: [FeatureName: Int] = Dictionary(
        uniqueKeysWithValues: FeatureName.allCases.enumerated().map { ($1, $0) })

    public var named: [String: Double] {
        Dictionary(uniqueKeysWithValues: FeatureName.allCases.map { ($0.rawValue, self[$0]) })
    }
}
