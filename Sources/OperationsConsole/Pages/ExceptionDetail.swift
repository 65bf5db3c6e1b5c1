import Accounting
import Alerter
import BridgeClock
import Foundation
import FraudScoring
import Messaging

/// What the evidence of an exception is, from what flagged it and the kind of transaction.
enum EvidenceKind: String, Encodable, Sendable {
    /// A burst of tiny authorisations, some declined, on one terminal (the gateway feed's card testing).
    case cardTesting = "card_testing"
    /// A voided ticket: the clerk's voids of the day.
    case clerkVoids = "clerk_voids"
    /// A refund: its sale and the other refunds of that sale.
    case refund
    /// A transaction outside the store's hours: the hours, then the card's and the terminal's day.
    case outsideHours = "outside_hours"
    /// Anything else: the card's and the terminal's transactions of the day.
    case cardAndTerminal = "card_and_terminal"

    static func of(_ exception: FraudException, event: EventHistory.Event?, minutesOutsideHours: Int?) -> EvidenceKind {
        let burst = exception.reasons.contains {
            $0.hasPrefix(GatewayFeed.cardTestingPrefix) || $0.contains(":terminal_small_auths_10m:") || $0.contains(":terminal_declines_10m:")
        }
        if burst { return .cardTesting }
        if event?.kind == .void, event?.clerk != nil { return .clerkVoids }
        if event?.kind == .refund { return .refund }
        if let minutes = minutesOutsideHours, minutes > 0 { return .outsideHours }
        return .cardAndTerminal
    }
}

/// One transaction of the evidence, as the fraud-scorer recorded it. The card is masked again on the way out
/// (`CardMask`): the store keeps tokens, and a token is never shown with more than the first six and last four.
struct EvidenceRow: Encodable, Sendable {
    var id, kind: String
    var amount: String
    var amountCents: Int64
    var card: String?
    var terminal: String
    var clerk: String?
    var keyed: Bool
    /// The instant, UTC.
    var at: String
    /// `2026-11-27 14:02`, the store's clock (from the flagged transaction's own local time); nil when unknown.
    var localTime: String?
    var localDay: String
    /// The flagged transaction itself.
    var flagged: Bool

    init(_ event: EventHistory.Event, flaggedId: String, utcOffsetMinutes: Int?) {
        id = event.id
        kind = event.kind.rawValue
        amount = Money.decimalString(event.amountCents)
        amountCents = event.amountCents
        card = event.card.map(CardMask.mask)
        terminal = event.terminal
        clerk = event.clerk
        keyed = event.keyed
        at = Timestamps.iso8601(event.at)
        localTime = utcOffsetMinutes.map { offset in
            let local = Calendar.utc.dateComponents([.hour, .minute], from: event.at.addingTimeInterval(TimeInterval(offset * 60)))
            return String(format: "%@ %02d:%02d", event.localDay, local.hour ?? 0, local.minute ?? 0)
        }
        localDay = event.localDay
        flagged = event.id == flaggedId
    }
}

/// A table of evidence: what it is and the transactions, at most `ExceptionDetail.evidenceLimit`.
struct EvidenceGroup: Encodable, Sendable {
    var id: String
    var title: String
    var rows: [EvidenceRow]
    /// More transactions matched than are shown.
    var truncated: Bool
}

/// A feature the deciding rule names, with the value the scorer saw.
struct RuleFeature: Encodable, Sendable {
    var name: String
    var value: Double
    /// `5 tiny authorisations on this terminal within 10 minutes (card testing?)`.
    var words: String

    static func all(_ exception: FraudException) -> [RuleFeature] {
        exception.features.sorted { $0.key < $1.key }.map { name, value in
            RuleFeature(name: name, value: value, words: FeatureName(rawValue: name)?.reason(value) ?? "")
        }
    }
}

/// `/reviews/exceptions/E<n>`: one exception with its facts, every reason, its acknowledgement and audit records, and
/// the evidence: the related transactions from the fraud-scorer's feature store (`EventHistory`).
struct ExceptionDetail: Encodable, Sendable {
    var exception: ExceptionRow
    /// What the deciding rule looked at, as the scorer saw it; empty when not recorded (see `FraudException.features`).
    var ruleFeatures: [RuleFeature]
    var evidenceKind: EvidenceKind
    /// The flagged transaction as the feature store recorded it (terminal, clerk, card); nil when it is not there.
    var transaction: EvidenceRow?
    /// The store's hours and how far outside them the transaction was, for an out-of-hours one.
    var storeHours: String?
    var minutesOutsideHours: Int?
    /// What the evidence shows, in words (counts as the store has them now, not as they were when scored).
    var findings: [String]
    var evidence: [EvidenceGroup]
    /// Why there is no evidence (no feature store, the transaction pruned or never recorded).
    var evidenceMissing: String?
    /// The audit records under the exception's key: raised, acknowledged (the console's request records carry no key).
    var history: [OperationsStore.AuditEntry]

    /// Rows per table of evidence.
    static let evidenceLimit = 200
    /// The card-testing window either side of the flagged probe, as the features count it (`terminal_small_auths_10m`).
    static let burstWindow: TimeInterval = 600
}

extension OperationsConsole {
    func exceptionDetail(_ label: String) async throws -> ExceptionDetail {
        guard let id = FraudException.id(label) else { throw ConsoleError.notFound("no fraud exception \(label) (exceptions are E<number>)") }
        let exception = try await reviewStore().exception(id: id)
        let history = try await configuration.operations.auditTrail(idempotencyKey: exception.key)
        var detail = ExceptionDetail(exception: ExceptionRow(exception), ruleFeatures: RuleFeature.all(exception), evidenceKind: .of(exception, event: nil, minutesOutsideHours: nil),
                                     findings: [], evidence: [], history: history)
        let missing = await withRecordedEvent(exception.transactionId) { event, events in
            try await collectEvidence(&detail, exception: exception, event: event, events: events)
        }
        detail.evidenceMissing = missing
        return detail
    }

    /// Runs `collect` on the transaction as the feature store recorded it. The evidence helps, but must not keep anyone
    /// from the page and its form: instead of failing, returns why there is none (no feature store, unreadable, not there).
    func withRecordedEvent(_ transactionId: String, _ collect: (EventHistory.Event, EventHistory) async throws -> Void) async -> String? {
        do {
            let events = try await eventHistory()
            guard let event = try await events.event(id: transactionId) else {
                return "transaction \(transactionId) is not in the fraud-scorer's feature store (pruned after 120 days, or recorded under another id)"
            }
            try await collect(event, events)
            return nil
        } catch let error as ConsoleError {
            return error.description
        } catch let error as EventHistory.Problem {
            return error.description
        } catch {
            logger.error("feature store not readable for the evidence", metadata: ["transaction": .string(transactionId), "error": .string("\(error)")])
            return "the fraud-scorer's feature store could not be read (\(error)); the rest of the page stands"
        }
    }

    private func collectEvidence(_ detail: inout ExceptionDetail, exception: FraudException, event: EventHistory.Event,
                                 events: EventHistory) async throws {
        let offset = Self.utcOffsetMinutes(summary: exception.summary, at: event.at)
        let limit = ExceptionDetail.evidenceLimit
        func rows(_ slice: EventHistory.Slice) -> [EvidenceRow] {
            slice.events.map { EvidenceRow($0, flaggedId: event.id, utcOffsetMinutes: offset) }
        }
        let hours = configuration.storeHours.hours(of: StoreID(event.store))
        let outside = offset.map { hours.minutesOutside(minuteOfDay: Self.minuteOfDay(event.at, offsetMinutes: $0)) }
        let kind = EvidenceKind.of(exception, event: event, minutesOutsideHours: outside)
        detail.evidenceKind = kind
        detail.transaction = EvidenceRow(event, flaggedId: event.id, utcOffsetMinutes: offset)
        switch kind {
        case .cardTesting:
            let window = ExceptionDetail.burstWindow
            let probes = try await events.probes(store: event.store, terminal: event.terminal, from: event.at - window, to: event.at + window,
                                                 limit: limit)
            let declines = probes.events.count { $0.kind == .decline }
            detail.findings = ["\(probes.events.count)\(probes.truncated ? "+" : "") tiny authorisations and declines on terminal "
                               + "\(event.terminal) within 10 minutes either side, \(declines) of them declined"]
            detail.evidence = [EvidenceGroup(id: "evidence-probes", title: "Tiny authorisations and declines on terminal \(event.terminal), ±10 minutes",
                                             rows: rows(probes), truncated: probes.truncated)]
        case .clerkVoids:
            let clerk = event.clerk ?? ""
            let voids = try await events.voids(store: event.store, clerk: clerk, localDay: event.localDay, limit: limit)
            detail.findings = ["\(voids.events.count)\(voids.truncated ? "+" : "") voids by clerk \(clerk) at store \(event.store) on \(event.localDay)"]
            detail.evidence = [EvidenceGroup(id: "evidence-voids", title: "Voids by clerk \(clerk) on \(event.localDay)", rows: rows(voids),
                                             truncated: voids.truncated)]
        case .refund:
            (detail.findings, detail.evidence) = try await saleAndRefunds(event, events: events, rows: rows)
        case .outsideHours:
            detail.storeHours = hours.text
            detail.minutesOutsideHours = outside
            detail.findings = ["\(outside ?? 0) minutes outside the store's hours (\(hours.text), the store's own clock)"]
            detail.evidence = try await dayOfCardAndTerminal(event, events: events, rows: rows)
        case .cardAndTerminal:
            detail.evidence = try await dayOfCardAndTerminal(event, events: events, rows: rows)
        }
    }

    /// A refund's sale (when the store has it under the id the refund links to) and every refund of that sale, then the
    /// card's and the terminal's day.
    func saleAndRefunds(_ event: EventHistory.Event, events: EventHistory,
                        rows: (EventHistory.Slice) -> [EvidenceRow]) async throws -> (findings: [String], groups: [EvidenceGroup]) {
        let day = try await dayOfCardAndTerminal(event, events: events, rows: rows)
        guard let original = event.originalId else { return (["the refund names no original sale"], day) }
        let linked = try await events.refunds(ofSale: original, limit: ExceptionDetail.evidenceLimit)
        let sale = EventHistory.Slice(events: linked.sale.map { [$0] } ?? [], truncated: false)
        let finding = linked.sale.map { "original sale \(original): $\(Money.decimalString($0.amountCents))" }
            ?? "the original sale \(original) is not in the feature store (a settled sale is recorded under its transaction id)"
        return ([finding], [
            EvidenceGroup(id: "evidence-sale", title: "The original sale", rows: rows(sale), truncated: false),
            EvidenceGroup(id: "evidence-refunds", title: "Refunds of \(original)", rows: rows(linked.refunds), truncated: linked.refunds.truncated),
        ] + day)
    }

    /// The card's and the terminal's transactions of the flagged one's local day.
    func dayOfCardAndTerminal(_ event: EventHistory.Event, events: EventHistory,
                                      rows: (EventHistory.Slice) -> [EvidenceRow]) async throws -> [EvidenceGroup] {
        let limit = ExceptionDetail.evidenceLimit
        var groups: [EvidenceGroup] = []
        if let card = event.card {
            let day = try await events.card(card, localDay: event.localDay, around: event.at, limit: limit)
            groups.append(EvidenceGroup(id: "evidence-card", title: "The card \(CardMask.mask(card)) on \(event.localDay)", rows: rows(day),
                                        truncated: day.truncated))
        }
        let terminal = try await events.terminal(store: event.store, terminal: event.terminal, localDay: event.localDay, around: event.at,
                                                 limit: limit)
        groups.append(EvidenceGroup(id: "evidence-terminal", title: "Terminal \(event.terminal) on \(event.localDay)", rows: rows(terminal),
                                    truncated: terminal.truncated))
        return groups
    }

    /// The store's UTC offset at the flagged transaction, in minutes, from the local time its summary gives
    /// (`… 14:02 local …`; the feature store keeps no time zone); nil when the summary gives none.
    static func utcOffsetMinutes(summary: String, at: Date) -> Int? {
        guard let marker = summary.range(of: " local") else { return nil }
        let clock = summary[..<marker.lowerBound].suffix(5).split(separator: ":")
        guard clock.count == 2, let hour = Int(clock[0]), let minute = Int(clock[1]) else { return nil }
        var difference = hour * 60 + minute - minuteOfDay(at, offsetMinutes: 0)
        if difference > 14 * 60 { difference -= 24 * 60 }
        if difference < -12 * 60 { difference += 24 * 60 }
        return Int((Double(difference) / 15).rounded()) * 15
    }

    static func minuteOfDay(_ at: Date, offsetMinutes: Int) -> Int {
        let clock = Calendar.utc.dateComponents([.hour, .minute], from: at.addingTimeInterval(TimeInterval(offsetMinutes * 60)))
        return (clock.hour ?? 0) * 60 + (clock.minute ?? 0)
    }
}

extension Calendar {
    /// Gregorian in UTC: a store's clock is an offset from it.
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
