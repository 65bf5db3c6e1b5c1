import Accounting
import BridgeClock
import Dispatch
import Foundation
import PipelineContracts
import SageConnector
import Synchronization
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

    public init(problems: [MappingProblem], sageAccounts: Int, batches: Int, payRuns: Int, since: String) {
        self.problems = problems
        self.sageAccounts = sageAccounts
        self.batches = batches
        self.payRuns = payRuns
        self.since = since
    }

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
    /// `progress`, when given, is told how many of the window's closed batches and pay runs have been tried so far (from
    /// several threads, in no order). The batches are tried concurrently, at most one at a time per core
    /// (`concurrency`); the problems come in the same order whatever the concurrency.
    public static func check(_ candidate: MappingDocument, inForce: MappingDocument?, chart: [SageGLAccount], batches: [BatchClosedEvent],
                             payRuns: [PayrollCompletedEvent], since: Date, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount,
                             progress: (@Sendable (Int) -> Void)? = nil) -> MappingCheck {
        let tried = Counter(progress)
        let perBatch = findings(of: batches, candidate: candidate, inForce: inForce, concurrency: concurrency, tried: tried)
        return check(candidate, inForce: inForce, chart: chart, findings: perBatch, payRuns: payRuns, since: since, tried: tried)
    }

    /// What each batch gives with the candidate, in order: the part of the check that is read batch by batch (a window
    /// too large to hold in memory is given a page at a time; `check(…findings:…)` puts the pages together).
    static func findings(of batches: [BatchClosedEvent], candidate: MappingDocument, inForce: MappingDocument?, concurrency: Int,
                         tried: Counter) -> [BatchFindings] {
        let proposed = TransformerHandler(rules: candidate.rules)
        let current = inForce.map { TransformerHandler(rules: $0.rules) }
        return concurrentMap(batches, concurrency: concurrency) { event in
            defer { tried.add() }
            // The tickets read once, for the brands and for the journal (unreadable: the journal's build reads them and fails).
            let records = (try? CurrencyCode(event.store.currency)).flatMap { try? TransformerHandler.ticketRecords(of: event, currency: $0) }
            return BatchFindings(fallbackBrands: fallbackBrands(in: records ?? [], rules: candidate.rules),
                                 problems: buildingProblems(event, tickets: records, proposed: proposed, current: current))
        }
    }

    static func check(_ candidate: MappingDocument, inForce: MappingDocument?, chart: [SageGLAccount], findings perBatch: [BatchFindings],
                      payRuns: [PayrollCompletedEvent], since: Date, tried: Counter) -> MappingCheck {
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

        // Every batch of the window (`findings`): the card brands it holds without a rule of their own, and what building
        // its journal with the candidate (and, when that sets something aside or fails, with the mapping in force) gives.
        // Card brands Heartland sent that have no rule of their own.
        var fallback: [String: Int] = [:]
        for findings in perBatch {
            for (brand, count) in findings.fallbackBrands { fallback[brand, default: 0] += count }
        }
        let other = candidate.rules.otherCardBrands
        for (brand, count) in fallback.sorted(by: { $0.key < $1.key }) {
            problems.append(.init(.warning, rule: other.rule, "card brand \"\(brand)\" (\(count) tender(s) in the window) has no rule of its own: "
                                  + "it posts to \(other.rule) (\(other.account)); add it under tenders.card_brands to give it its own account"))
        }
        problems += perBatch.flatMap { $0.problems }

        for event in payRuns {
            defer { tried.add() }
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
        return MappingCheck(problems: problems, sageAccounts: chart.count, batches: perBatch.count, payRuns: payRuns.count,
                            since: Timestamps.iso8601(since))
    }

    struct BatchFindings: Sendable {
        var fallbackBrands: [String: Int]
        var problems: [MappingProblem]
    }

    /// The card brands of a batch's tenders that fall to `tenders.card_other_brands`, with their counts.
    static func fallbackBrands(in records: [TicketRecord], rules: MappingRules) -> [String: Int] {
        var fallback: [String: Int] = [:]
        for ticket in records.compactMap(\.ticket) {
            for case .card(let brand, _, _, _) in ticket.tenders where rules.canonicalBrand(brand) == MappingRules.otherBrand {
                fallback[brand, default: 0] += 1
            }
        }
        return fallback
    }

    /// What the candidate breaks in one batch (errors), or what already fails with the mapping in force (warnings).
    static func buildingProblems(_ event: BatchClosedEvent, tickets: [TicketRecord]?, proposed: TransformerHandler,
                                 current: TransformerHandler?) -> [MappingProblem] {
        let what = "store \(event.store.id) batch \(event.batchId ?? "?") of \(event.businessDate)"
        // The mapping in force is tried only when the candidate sets something aside or fails (usually it does not).
        func before() -> Result<BatchTransform, any Error>? { current.map { handler in Result { try handler.settlement(batch: event, tickets: tickets) } } }
        do {
            let built = try proposed.settlement(batch: event, tickets: tickets)
            guard !built.quarantined.isEmpty else { return [] }
            let known = Set(((try? before()?.get())?.quarantined ?? []).map { (held: QuarantinedDocument) in held.reason })
            return built.quarantined.filter { !known.contains($0.reason) }.map {
                .init(.error, rule: nil, "\(what): document \($0.documentId) would be set aside: \($0.reason)")
            }
        } catch {
            if let before = before(), case .failure(let old) = before, "\(old)" == "\(error)" {
                return [.init(.warning, rule: nil, "\(what) does not post with the mapping in force either: \(error)")]
            }
            return [.init(.error, rule: nil, "\(what) would not post: \(error)")]
        }
    }

    /// `transform` of every element, in order, by at most `concurrency` threads at once (Dispatch's, not Swift's cooperative pool).
    static func concurrentMap<Element: Sendable, Mapped: Sendable>(_ elements: [Element], concurrency: Int,
                                                                  _ transform: @escaping @Sendable (Element) -> Mapped) -> [Mapped] {
        let lanes = max(1, min(concurrency, elements.count))
        guard lanes > 1 else { return elements.map(transform) }
        let results = Mutex<[Int: Mapped]>([:])
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            for index in stride(from: lane, to: elements.count, by: lanes) {
                let mapped = transform(elements[index])
                results.withLock { $0[index] = mapped }
            }
        }
        return results.withLock { mapped in elements.indices.map { mapped[$0]! } }
    }

    /// Counts what has been tried, for `progress`.
    final class Counter: Sendable {
        private let count = Mutex(0)
        private let report: (@Sendable (Int) -> Void)?
        init(_ report: (@Sendable (Int) -> Void)?) { self.report = report }
        func add() {
            guard let report else { return }
            report(count.withLock { $0 += 1; return $0 })
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
