import Foundation
import PipelineContracts

/// What a console user may ask for with a POST, and the role each needs. Approving a held journal
/// releases money to the books and purging a parking lot deletes messages for good, so both need more
/// than an operator.
enum ConsoleAction: Equatable, Sendable {
    case replay(stage: String)
    case purge(stage: String)
    case approve(review: Int64)
    case reject(review: Int64)
    case acknowledgeException(String)
    case decideMatch(String, MatchVerdict)
    case acknowledgeAlert
    case saveMapping
    case restoreMapping(Int64)
    case saveRules
    case restoreRules(Int64)

    /// The action a POST path names, nil for none.
    init?(_ parts: [String]) {
        switch parts {
        case let p where p.count == 3 && p[0] == "dlq" && p[2] == "replay": self = .replay(stage: p[1])
        case let p where p.count == 3 && p[0] == "dlq" && p[2] == "purge": self = .purge(stage: p[1])
        case let p where p.count == 3 && p[0] == "reviews" && p[2] == "approve":
            guard let id = Int64(p[1]) else { return nil }
            self = .approve(review: id)
        case let p where p.count == 3 && p[0] == "reviews" && p[2] == "reject":
            guard let id = Int64(p[1]) else { return nil }
            self = .reject(review: id)
        case let p where p.count == 4 && p[0] == "reviews" && p[1] == "exceptions" && p[3] == "acknowledge": self = .acknowledgeException(p[2])
        case let p where p.count == 3 && p[0] == "matches" && p[2] == "same": self = .decideMatch(p[1], .same)
        case let p where p.count == 3 && p[0] == "matches" && p[2] == "different": self = .decideMatch(p[1], .different)
        case ["alerts", "acknowledge"]: self = .acknowledgeAlert
        case ["mapping", "save"]: self = .saveMapping
        case let p where p.count == 4 && p[0] == "mapping" && p[1] == "versions" && p[3] == "restore":
            guard let id = Int64(p[2]) else { return nil }
            self = .restoreMapping(id)
        case ["rules", "save"]: self = .saveRules
        case let p where p.count == 4 && p[0] == "rules" && p[1] == "versions" && p[3] == "restore":
            guard let id = Int64(p[2]) else { return nil }
            self = .restoreRules(id)
        default: return nil
        }
    }

    var requiredRole: ConsoleRole {
        switch self {
        case .purge: .admin
        case .approve: .approver
        case .saveMapping, .restoreMapping, .saveRules, .restoreRules: .mapper
        case .replay, .reject, .acknowledgeException, .decideMatch, .acknowledgeAlert: .operator
        }
    }

    /// In words, for refusals and the audit trail.
    var what: String {
        switch self {
        case .replay(let stage): "replaying \(stage).dlq"
        case .purge(let stage): "purging \(stage).dlq"
        case .approve(let id): "approving review \(id)"
        case .reject(let id): "rejecting review \(id)"
        case .acknowledgeException(let label): "acknowledging fraud exception \(label)"
        case .decideMatch(let id, let verdict): "deciding customer match \(id) (\(verdict.rawValue))"
        case .acknowledgeAlert: "acknowledging an alert"
        case .saveMapping: "saving the GL mapping"
        case .restoreMapping(let id): "restoring GL mapping version \(id)"
        case .saveRules: "saving the fraud rules"
        case .restoreRules(let id): "restoring fraud rules version \(id)"
        }
    }

    static let rolesInWords = "operator: replay, reject, acknowledge, decide matches; mapper: also save and restore the GL mapping and the fraud rules; "
        + "approver: also approve; admin: also purge"
}
