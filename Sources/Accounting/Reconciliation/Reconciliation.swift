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

    public var differences: [ReconciliationLine] { lines.filter { !$0.isMatched } }
}

/// Compares Heartland's totals and the expected journal with what Sage holds. Pure.
public enum Reconciler {
    /// - Parameters:
    ///   - expected: the journal the rules produce for the day.
    ///   - batch: Heartland's settlement batch with its totals (nil on a cash-only day).
    ///   - sage: what Sage holds under `expected.reference`; nil when it holds nothing.
    ///   - pendingReason: set while the document is held or retrying, e.g. "held in the dead-letter queue: ...".
    public static func reconcile(
        storeID: StoreID, expected: JournalEntry, batch: SettlementBatch?, sage: SageReadBack?,
        pendingReason: String? = nil, rules: MappingRules
    ) -> ReconciliationReport {
        let sageNet: [AccountNumber: Int64]? = sage.map { readBack in
            readBack.lines.reduce(into: [:]) { $0[$1.account, default: 0] &+= $1.signedCents }
        }
        var lines: [ReconciliationLine] = []
        let expectedNet = expected.netByAccount
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
        let status: ReconciliationStatus
        var reason: String?
        if let pendingReason {
            (status, reason) = (.incomplete, pendingReason)
        } else if sage == nil || sage?.lines.isEmpty == true {
            (status, reason) = (.incomplete, "Sage holds no journal entry with reference \(expected.reference) yet")
        } else if lines.allSatisfy(\.isMatched) {
            status = .matched
        } else {
            status = .mismatched
            reason = lines.filter { !$0.isMatched }.map {
                "\($0.check.rawValue) \($0.label) (\($0.account)) differs by \(Money.decimalString($0.differenceCents ?? 0))"
            }.joined(separator: "; ")
        }
        return ReconciliationReport(
            storeID: storeID, businessDate: expected.postingDate, batchID: batch?.id, reference: expected.reference,
            status: status, reason: reason, heartlandTotals: batch?.totals, lines: lines)
    }
}
