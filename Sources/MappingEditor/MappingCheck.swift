import Accounting
import BridgeClock
import Foundation
import PipelineContracts
import SageConnector
import Transformer

/// One finding of a mapping check.
public struct MappingProblem: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable {
        /// The mapping must not be saved: Sage would refuse a journal, or Heartland data of the last days would not post.
        case error
        /// Worth a look, does not stop a save (a card brand posting to the fallback account).
        case warning
    }

    public var severity: Severity
    /// The rule at fault, when there is one.
    public var rule: String?
    public var message: String

    public init(_ severity: Severity, rule: String?, _ message: String) {
        self.severity = severity
        self.rule = rule
        self.message = message
    }
}

/// What a mapping check found, and what it was checked against.
public struct MappingCheck: Codable, Sendable, Equatable {
    public var problems: [MappingProblem]
    /// Accounts in Sage's chart when it was checked.
    public var sageAccounts: Int
    /// Closed batches and pay runs of the window the mapping was tried on.
    public var batches: Int
    public var payRuns: Int
    /// The window's start (RFC 3339).
    public var since: String

    /// No error: the mapping may be saved.
    public var passed: Bool { !problems.contains { $0.severity == .error } }
    public var errors: [MappingProblem] { problems.filter { $0.severity == .error } }
}

/// The checks a mapping must pass before it is saved (issue 23): every account it names exists in Sage's chart and
/// is active; every value Heartland sent in the window is covered (a payroll code without a rule, a card brand that
/// would fall to the fallback account); and every closed batch and pay run of the window still builds a balanced
/// journal with it (`JournalEntry.balanced` refuses anything else). A batch or pay run the mapping in force cannot
/// post either (an unmapped payroll code already failing) is listed as a warning: it is not the change's fault and
/// does not hold it back; what the change breaks in addition is an error. A ticket set aside for its own data (also
/// set aside with the mapping in force) is not listed.
public enum MappingChecker {
    public static func check(_ candidate: MappingDocument, inForce: MappingDocument?, chart: [SageGLAccount], batches: [BatchClosedEvent],
                             payRuns: [PayrollCompletedEvent], since: Date) -> MappingCheck {
        var problems: [MappingProblem] = []
        let sage = Dictionary(chart.map { ($0.accountNumber, $0) }, uniquingKeysWith: { first, _ in first })
        for row in candidate.rows {
            guard let account = sage[row.account] else {
                problems.append(.init(.error, rule: row.rule, "\(row.rule): account \(row.account) does not exist in Sage's chart of accounts"))
                continue
            }
            if !account.isActive {
                problems.append(.init(.error, rule: row.rule, "\(row.rule): account \(row.account) (\(account.description)) is inactive in Sage: "
                                      + "Sage refuses journals to it"))
            }
        }

        // Card brands Heartland sent that have no rule of their own.
        var fallback: [String: Int] = [:]
        for event in batches {
            guard let currency = try? CurrencyCode(event.store.currency),
                  let records = try? HeartlandJSON.ticketRecords(from: event.tickets.data, currency: currency) else { continue }
            for ticket in records.compactMap(\.ticket) {
                for case .card(let brand, _, _, _) in ticket.tenders where candidate.rules.canonicalBrand(brand) == MappingRules.otherBrand {
                    fallback[brand, default: 0] += 1
                }
            }
        }
        let other = candidate.rules.otherCardBrands
        for (brand, count) in fallback.sorted(by: { $0.key < $1.key }) {
            problems.append(.init(.warning, rule: other.rule, "card brand \"\(brand)\" (\(count) tender(s) in the window) has no rule of its own: "
                                  + "it posts to \(other.rule) (\(other.account)); add it under tenders.card_brands to give it its own account"))
        }

        // Every batch and pay run of the window, built with the candidate and with the mapping in force.
        let proposed = TransformerHandler(rules: candidate.rules)
        let current = inForce.map { TransformerHandler(rules: $0.rules) }
        for event in batches {
            let what = "store \(event.store.id) batch \(event.batchId ?? "?") of \(event.businessDate)"
            // The mapping in force is tried only when the candidate sets something aside or fails (usually it does not).
            func before() -> Result<BatchTransform, any Error>? { current.map { handler in Result { try handler.settlement(batch: event) } } }
            do {
                let built = try proposed.settlement(batch: event)
                guard !built.quarantined.isEmpty else { continue }
                let known = Set(((try? before()?.get())?.quarantined ?? []).map { (held: QuarantinedDocument) in held.reason })
                for held in built.quarantined where !known.contains(held.reason) {
                    problems.append(.init(.error, rule: nil, "\(what): document \(held.documentId) would be set aside: \(held.reason)"))
                }
            } catch {
                if let before = before(), case .failure(let old) = before, "\(old)" == "\(error)" {
                    problems.append(.init(.warning, rule: nil, "\(what) does not post with the mapping in force either: \(error)"))
                    continue
                }
                problems.append(.init(.error, rule: nil, "\(what) would not post: \(error)"))
            }
        }
        for event in payRuns {
            let what = "pay run \(event.runId ?? "?")"
            func build(_ rules: MappingRules) throws -> JournalEntry {
                try PayrollJournalBuilder(rules: rules).build(HeartlandJSON.payRun(from: event.payRun.data, currency: CurrencyCode(event.currency)))
            }
            do {
                _ = try build(candidate.rules)
            } catch {
                if let inForce, let old = Result(catching: { try build(inForce.rules) }).failure, "\(old)" == "\(error)" {
                    // Listed before it fails again in production, without holding back an unrelated change.
                    problems.append(.init(.warning, rule: nil, "\(what) does not post with the mapping in force either: \(error)"))
                    continue
                }
                problems.append(.init(.error, rule: nil, "\(what) would not post: \(error)"))
            }
        }
        return MappingCheck(problems: problems, sageAccounts: chart.count, batches: batches.count, payRuns: payRuns.count,
                            since: Timestamps.iso8601(since))
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
