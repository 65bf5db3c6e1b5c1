/// What Sage holds for one journal entry, read back after posting (never assumed).
public struct SageReadBack: Hashable, Sendable, Codable {
    public var reference: String
    public var lines: [PostedLine]

    public init(reference: String, lines: [PostedLine]) {
        self.reference = reference
        self.lines = lines
    }
}

/// One Sage journal detail: debit positive, credit negative, like `JournalDetails.Amount`.
public struct PostedLine: Hashable, Sendable, Codable {
    public var account: AccountNumber
    public var signedCents: Int64

    public init(account: AccountNumber, signedCents: Int64) {
        self.account = account
        self.signedCents = signedCents
    }
}

public enum ReconciliationStatus: String, Hashable, Sendable, Codable {
    /// Everything Heartland reports equals what Sage holds, per account and per brand.
    case matched
    /// Sage holds the entry but some account or brand differs; see the differences.
    case mismatched
    /// Sage does not hold the entry yet (held in the dead-letter queue or retrying).
    case incomplete
}

/// One compared figure. Amounts are in the account's normal direction as the check states:
/// accounts debit positive; brands are card clearing net (sales − refunds − fees); tips credit positive.
public struct ReconciliationLine: Hashable, Sendable, Codable {
    public enum Check: String, Hashable, Sendable, Codable {
        /// The day's rules applied to the tickets against Sage's net on the account.
        case account
        /// Heartland's batch breakdown for the brands clearing through the account against Sage.
        case cardBrand = "card_brand"
        /// Heartland's batch gratuity against Sage's tips payable.
        case tips
    }

    public var check: Check
    public var label: String
    public var account: AccountNumber
    public var expectedCents: Int64
    /// Nil when Sage holds nothing to compare with.
    public var sageCents: Int64?
    /// `sage − expected`; nil when Sage holds nothing.
    public var differenceCents: Int64? { sageCents.map { $0 &- expectedCents } }
    public var isMatched: Bool { differenceCents == 0 }
}

/// One real-time refund of a batch, as the batch's reconciliation sees it.
public struct RefundReconciliation: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        /// Sage holds the refund's entry; its amounts are in the batch's Sage figures.
        case posted
        /// Sage does not hold it yet: held for fraud review, retrying, or in a dead-letter queue.
        case pending
    }

    public var reference: String
    /// The return ticket's receipt number.
    public var ticket: String
    /// The idempotency key of the refund's journal (`heartland:return:<ticket id>`), to find it in reviews and dead letters.
    public var idempotencyKey: String
    /// The money given back, positive.
    public var amountCents: Int64
    public var status: Status
    /// Where a pending refund is (`held for fraud review`, `blocked`, …), filled in by the operations store when read.
    public var detail: String?

    public init(reference: String, ticket: String, idempotencyKey: String, amountCents: Int64, status: Status) {
        self.reference = reference
        self.ticket = ticket
        self.idempotencyKey = idempotencyKey
        self.amountCents = amountCents
        self.status = status
    }
}

public struct ReconciliationReport: Hashable, Sendable, Codable {
    public var storeID: StoreID
    public var businessDate: BusinessDate
    public var batchID: BatchID?
    public var reference: String
    public var status: ReconciliationStatus
    /// Why the report is incomplete or mismatched, in words.
    public var reason: String?
    /// Heartland's own batch totals, as received.
    public var heartlandTotals: CardTotals?
    public var lines: [ReconciliationLine]
    /// A batch's real-time refunds (posted on their own, not in the day's journal): their expected
    /// amounts are in `lines`, their Sage amounts once posted. Nil on reports older than refunds.
    public var refunds: [RefundReconciliation]?
    /// On a refund's own report: the reference of the day's journal whose batch the refund is part of.
    public var partOf: String?
    /// The batch's tickets set aside as they could not post (nil or empty: none); held ones keep the report incomplete.
    public var quarantined: [SetAsideReconciliation]?
    /// On a supplementary journal's own report: the set-aside document it posts.
    public var resolves: String?
    /// The AR documents of the batch's on-account tickets against Sage AR (nil: the batch has none, or a report older
    /// than them). A document missing in Sage keeps the report incomplete; any other difference makes it mismatched.
    public var receivables: [ReceivableReconciliation]?

    public var differences: [ReconciliationLine] { lines.filter { !$0.isMatched } }
    public var receivableDifferences: [ReceivableReconciliation] { (receivables ?? []).filter { $0.status != .matched } }

    /// The batch report once the refund with this report's reference is in Sage: its Sage amounts are
    /// added to the batch's, and the status is decided again. Unchanged if the refund is not one of
    /// the batch's pending refunds (already applied, or another batch's).
    public func applying(_ refund: ReconciliationReport) -> ReconciliationReport {
        guard refund.status != .incomplete else { return self }
        guard var refunds, let index = refunds.firstIndex(where: { $0.reference == refund.reference && $0.status == .pending })
        else { return addingPart(refund) }
        var report = self
        refunds[index].status = .posted
        report.refunds = refunds
        let sageNet = Dictionary(refund.lines.filter { $0.check == .account }.map { ($0.account, $0.sageCents ?? 0) },
                                 uniquingKeysWith: +)
        for (account, cents) in sageNet where cents != 0 {
            let hasAccountLine = report.lines.contains { $0.check == .account && $0.account == account }
            for i in report.lines.indices where report.lines[i].account == account {
                // Tips are compared credit-positive, the other checks debit-positive.
                let signed = report.lines[i].check == .tips ? 0 &- cents : cents
                report.lines[i].sageCents = (report.lines[i].sageCents ?? 0) &+ signed
            }
            if !hasAccountLine {
                report.lines.append(ReconciliationLine(check: .account, label: refund.lines.first { $0.account == account }?.label ?? "account \(account)",
                                                       account: account, expectedCents: 0, sageCents: cents))
            }
        }
        (report.status, report.reason) = Reconciler.status(lines: report.lines, refunds: refunds, pendingReason: nil,
                                                            sageHoldsDay: true, reference: reference, setAside: quarantined,
                                                            receivables: report.receivables)
        return report
    }

    /// A journal of the batch posted apart that the report did not expect when it was made (a set-aside ticket's
    /// supplementary journal, a gateway-only refund): its expected and Sage amounts are both added, once.
    func addingPart(_ part: ReconciliationReport) -> ReconciliationReport {
        guard part.partOf == reference else { return self }
        if part.isReceivablesOnly {
            // An AR document's own read-back, sent by sage-loader when it posts (or finds) the document: folded in by
            // document, as often as it comes.
            var report = self
            report.receivables = ReceivablesReconciler.merge(receivables, part.receivables ?? [])
            (report.status, report.reason) = Reconciler.status(lines: report.lines, refunds: report.refunds, pendingReason: nil,
                                                                sageHoldsDay: true, reference: reference, setAside: report.quarantined,
                                                                receivables: report.receivables)
            return report
        }
        guard !(refunds ?? []).contains(where: { $0.reference == part.reference }) else { return self }
        var report = self
        report.receivables = ReceivablesReconciler.merge(report.receivables, part.receivables ?? [])
        for line in part.lines where line.check == .account {
            let sage = line.sageCents ?? 0
            if let index = report.lines.firstIndex(where: { $0.check == .account && $0.account == line.account }) {
                report.lines[index].expectedCents &+= line.expectedCents
            } else {
                report.lines.append(ReconciliationLine(check: .account, label: line.label, account: line.account, expectedCents: line.expectedCents,
                                                       sageCents: 0))
            }
            for i in report.lines.indices where report.lines[i].account == line.account {
                let signed = report.lines[i].check == .tips ? 0 &- sage : sage
                report.lines[i].sageCents = (report.lines[i].sageCents ?? 0) &+ signed
            }
        }
        var parts = report.refunds ?? []
        let label = part.resolves.map { id in
            "corrected ticket \(quarantined?.first { $0.documentId == id }?.number ?? id)"
        } ?? part.reference
        parts.append(RefundReconciliation(reference: part.reference, ticket: label, idempotencyKey: "", amountCents: 0, status: .posted))
        report.refunds = parts
        if let resolves = part.resolves, var held = report.quarantined {
            for index in held.indices where held[index].documentId == resolves {
                held[index].status = .posted
                held[index].reference = part.reference
            }
            report.quarantined = held
        }
        (report.status, report.reason) = Reconciler.status(lines: report.lines, refunds: report.refunds, pendingReason: nil,
                                                            sageHoldsDay: true, reference: reference, setAside: report.quarantined,
                                                            receivables: report.receivables)
        return report
    }

    /// The report of one AR document (no GL lines), sent by sage-loader when it posts or finds the document, to be folded
    /// into its batch's report (`partOf`).
    public static func receivablePart(_ line: ReceivableReconciliation, storeID: StoreID, businessDate: BusinessDate, partOf: String)
        -> ReconciliationReport
    {
        var report = ReconciliationReport(storeID: storeID, businessDate: businessDate, batchID: nil, reference: "AR \(line.key)",
                                          status: line.status == .matched ? .matched : (line.status == .missingInSage ? .incomplete : .mismatched),
                                          reason: line.status == .matched ? nil : line.summary, heartlandTotals: nil, lines: [])
        report.receivables = [line]
        report.partOf = partOf
        return report
    }

    var isReceivablesOnly: Bool { lines.isEmpty && receivables?.isEmpty == false && resolves == nil && refunds == nil }
}

/// A ticket of a batch set aside as it could not post, as the batch's reconciliation names it.
public struct SetAsideReconciliation: Hashable, Sendable, Codable {
    public enum Status: String, Hashable, Sendable, Codable {
        /// Not in Sage: waiting for a correction at the source and `bridgectl quarantine replay`.
        case held
        /// Its corrected version is in Sage (`reference`).
        case posted
    }

    public var documentId: String
    public var number: String?
    public var field: String
    public var reason: String
    /// What it would post as written, per account (debit positive); nil when the record cannot be read.
    public var netByAccount: [String: Int64]?
    public var status: Status
    /// The supplementary journal that posted it.
    public var reference: String?

    public init(documentId: String, number: String?, field: String, reason: String, netByAccount: [String: Int64]?, status: Status = .held,
                reference: String? = nil) {
        self.documentId = documentId
        self.number = number
        self.field = field
        self.reason = reason
        self.netByAccount = netByAccount
        self.status = status
        self.reference = reference
    }

    /// `ticket S01-… (id 123), field …: 4000 -12.00, 1100 12.01`.
    public var summary: String {
        let amounts = netByAccount.map { net in
            net.keys.sorted().map { "\($0) \(Money.decimalString(net[$0]!))" }.joined(separator: ", ")
        } ?? "amounts unreadable"
        return "ticket \(number ?? documentId) (id \(documentId)), field \(field): \(amounts)"
    }
}

/// Compares Heartland's totals and the expected journal with what Sage holds. Pure.
public enum Reconciler {
    /// - Parameters:
    ///   - expected: the journal the rules produce for the day.
    ///   - batch: Heartland's settlement batch with its totals (nil on a cash-only day).
    ///   - sage: what Sage holds under `expected.reference`; nil when it holds nothing.
    ///   - pendingReason: set while the document is held or retrying, e.g. "held in the dead-letter queue: ...".
    ///   - refunds: the batch's real-time refunds: each one's journal and what Sage holds under its reference
    ///     (nil while it is not posted). Their expected amounts count in full; their Sage amounts once posted.
    public static func reconcile(
        storeID: StoreID, expected: JournalEntry, batch: SettlementBatch?, sage: SageReadBack?,
        refunds: [(refund: RealTimeRefund, sage: SageReadBack?)] = [],
        pendingReason: String? = nil, rules: MappingRules, setAside: [SetAsideReconciliation] = [],
        receivables: [ReceivableReconciliation]? = nil
    ) -> ReconciliationReport {
        var sageNet: [AccountNumber: Int64]? = sage.map { readBack in
            readBack.lines.reduce(into: [:]) { $0[$1.account, default: 0] &+= $1.signedCents }
        }
        var lines: [ReconciliationLine] = []
        var expectedNet = expected.netByAccount
        var refundStatus: [RefundReconciliation] = []
        for refund in refunds {
            let journal = refund.refund.journal
            for (account, cents) in journal.netByAccount { expectedNet[account, default: 0] &+= cents }
            if let posted = refund.sage, sageNet != nil {
                for line in posted.lines { sageNet![line.account, default: 0] &+= line.signedCents }
            }
            refundStatus.append(RefundReconciliation(
                reference: journal.reference, ticket: refund.refund.ticketNumber, idempotencyKey: journal.idempotencyKey,
                amountCents: refund.refund.refundedCents, status: refund.sage == nil ? .pending : .posted))
        }
        let accounts = Set(expectedNet.keys).union(sageNet?.keys ?? [:].keys).sorted()
        for account in accounts {
            lines.append(ReconciliationLine(
                check: .account, label: rules.name(of: account).isEmpty ? "account \(account)" : rules.name(of: account),
                account: account, expectedCents: expectedNet[account, default: 0], sageCents: sageNet.map { $0[account, default: 0] }))
        }
        if let batch {
            var byAccount: [AccountNumber: (labels: [String], cents: Int64)] = [:]
            for brand in batch.brands {
                let account = rules.clearingAccount(forBrand: brand.brand).account
                let net = brand.totals.sales.minorUnits &- brand.totals.refunds.minorUnits &- brand.totals.fees.minorUnits
                byAccount[account, default: ([], 0)].labels.append(brand.brand)
                byAccount[account, default: ([], 0)].cents &+= net
            }
            for account in byAccount.keys.sorted() {
                let entry = byAccount[account]!
                lines.append(ReconciliationLine(
                    check: .cardBrand, label: entry.labels.sorted().joined(separator: "+"), account: account,
                    expectedCents: entry.cents, sageCents: sageNet.map { $0[account, default: 0] }))
            }
            lines.append(ReconciliationLine(
                check: .tips, label: "card gratuity", account: rules.tips.account, expectedCents: batch.totals.tips.minorUnits,
                sageCents: sageNet.map { 0 &- $0[rules.tips.account, default: 0] }))
        }
        let (status, reason) = Self.status(lines: lines, refunds: refunds.isEmpty ? nil : refundStatus, pendingReason: pendingReason,
                                           sageHoldsDay: !(sage == nil || sage?.lines.isEmpty == true), reference: expected.reference,
                                           setAside: setAside, receivables: receivables)
        var report = ReconciliationReport(
            storeID: storeID, businessDate: expected.postingDate, batchID: batch?.id, reference: expected.reference,
            status: status, reason: reason, heartlandTotals: batch?.totals, lines: lines, refunds: refunds.isEmpty ? nil : refundStatus,
            quarantined: setAside.isEmpty ? nil : setAside)
        report.receivables = receivables
        return report
    }

    /// Incomplete while anything is not in Sage (the day's entry or a refund); then matched or mismatched.
    static func status(lines: [ReconciliationLine], refunds: [RefundReconciliation]?, pendingReason: String?, sageHoldsDay: Bool,
                       reference: String, setAside: [SetAsideReconciliation]? = nil,
                       receivables: [ReceivableReconciliation]? = nil) -> (ReconciliationStatus, String?) {
        if let pendingReason { return (.incomplete, pendingReason) }
        if !sageHoldsDay { return (.incomplete, "Sage holds no journal entry with reference \(reference) yet") }
        var waiting: [String] = []
        let pending = (refunds ?? []).filter { $0.status == .pending }
        if !pending.isEmpty {
            waiting.append("\(pending.count) refund(s) or journal(s) of the batch not in Sage yet (held for review or retrying): "
                + pending.map { $0.amountCents == 0 ? $0.ticket : "\($0.ticket) \(Money.decimalString($0.amountCents))" }.joined(separator: ", "))
        }
        let held = (setAside ?? []).filter { $0.status == .held }
        if !held.isEmpty {
            waiting.append("\(held.count) ticket(s) set aside (bridgectl quarantine list): " + held.map(\.summary).joined(separator: "; "))
        }
        let missing = (receivables ?? []).filter { $0.status == .missingInSage }
        if !missing.isEmpty {
            waiting.append("\(missing.count) AR document(s) not in Sage AR yet (posting, held for a customer review, or in sage-loader.dlq): "
                + missing.map(\.summary).joined(separator: "; "))
        }
        if !waiting.isEmpty { return (.incomplete, waiting.joined(separator: ". ")) }
        let arDifferences = (receivables ?? []).filter { $0.status != .matched }
        if lines.allSatisfy(\.isMatched) && arDifferences.isEmpty { return (.matched, nil) }
        return (.mismatched, (lines.filter { !$0.isMatched }.map {
            "\($0.check.rawValue) \($0.label) (\($0.account)) differs by \(Money.decimalString($0.differenceCents ?? 0))"
        } + arDifferences.map { "AR \($0.summary)" }).joined(separator: "; "))
    }
}
