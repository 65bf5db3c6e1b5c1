/// A card refund posted on its own, as it happens: its journal, the return ticket's number and the money given back.
public struct RealTimeRefund: Hashable, Sendable, Codable {
    public var journal: JournalEntry
    public var ticketNumber: String
    /// Positive.
    public var refundedCents: Int64

    public init(journal: JournalEntry, ticketNumber: String, refundedCents: Int64) {
        self.journal = journal
        self.ticketNumber = ticketNumber
        self.refundedCents = refundedCents
    }
}

/// Turns one store business day into one consolidated, balanced journal entry following
/// ACCOUNTING.md "Sales day", with the accounts chosen by `MappingRules`.
///
/// Amounts are signed by direction: a sale's lines and tenders are positive, a return's are
/// negative, so refunds reverse the sale's accounts (4200 for merchandise, 2200 for tax, the
/// tender credited) and an exchange ticket needs no special case.
public struct SettlementJournalBuilder: Sendable {
    public let rules: MappingRules

    public init(rules: MappingRules) { self.rules = rules }

    /// The day's journal (every ticket but the real-time refunds) and the journal of each real-time
    /// refund of the day, which the refund path posts on its own; the batch is checked against all.
    public struct Day: Sendable {
        /// Nil when every ticket of the day is a refund posted on its own (and the batch carries no fees):
        /// there is nothing else to post.
        public var journal: JournalEntry?
        public var refunds: [RealTimeRefund]
    }

    /// The day's journal alone (refunds inside it); for callers that post everything at once.
    public func build(_ day: StoreDay) throws(PostingError) -> JournalEntry {
        guard let journal = try build(day, separatingRefunds: false).journal else {
            throw .invalidData(record: "store \(day.storeID) business day \(day.businessDate.iso)", problem: "has nothing to post")
        }
        return journal
    }

    /// The day's journal without the tickets that post as real-time refunds, and those refunds' journals.
    public func buildSeparatingRefunds(_ day: StoreDay) throws(PostingError) -> Day {
        try build(day, separatingRefunds: true)
    }

    /// One real-time refund: the return ticket's entry, dated the store's business day of the return.
    public func buildRefund(_ ticket: Ticket, storeID: StoreID, timeZone: StoreTimeZone, currency: CurrencyCode) throws(PostingError)
        -> JournalEntry
    {
        guard currency == rules.currency else {
            throw .currencyMismatch(record: "refund ticket \(ticket.id)", found: currency, expected: rules.currency)
        }
        guard ticket.postsAsRealTimeRefund else {
            throw .invalidData(record: "ticket \(ticket.id) (\(ticket.number))",
                               problem: "is not a pure card refund (an exchange or a sale): it posts with the day's journal")
        }
        var ledger = JournalLedger(currency: currency)
        var ignored: [String: Int64] = [:]
        try post(ticket, into: &ledger, cardNetByBrand: &ignored)
        let date = ticket.businessDate(in: timeZone)
        return try JournalEntry.balanced(
            source: .refund, reference: Self.refundReference(storeID: storeID, date: date, ticket: ticket.id),
            idempotencyKey: "heartland:return:\(ticket.id)", postingDate: date,
            description: "Heartland store \(storeID) refund \(ticket.number) \(date.sageFormat)", currency: currency, lines: ledger.lines)
    }

    /// `HL-<store>-<yyyymmdd>-<batch id>` (`NOBATCH` on a day without card transactions).
    public static func dayReference(storeID: StoreID, date: BusinessDate, batch: BatchID?) -> String {
        "HL-\(storeID)-\(date.compact)-\(batch?.rawValue ?? "NOBATCH")"
    }

    /// `HL-<store>-<yyyymmdd>-R<ticket id>`: beside the day's `HL-<store>-<yyyymmdd>-<batch>`.
    public static func refundReference(storeID: StoreID, date: BusinessDate, ticket: TicketID) -> String {
        "HL-\(storeID)-\(date.compact)-R\(ticket)"
    }

    private func build(_ day: StoreDay, separatingRefunds: Bool) throws(PostingError) -> Day {
        let storeRecord = "store \(day.storeID) business day \(day.businessDate.iso)"
        guard day.currency == rules.currency else {
            throw .currencyMismatch(record: storeRecord, found: day.currency, expected: rules.currency)
        }
        var ledger = JournalLedger(currency: day.currency)
        var cardNetByBrand: [String: Int64] = [:]
        var refunds: [RealTimeRefund] = []
        for ticket in day.tickets where !ticket.isVoid {
            let local = ticket.businessDate(in: day.timeZone)
            guard local == day.businessDate else {
                throw .ticketOutsideBusinessDay(ticket: ticket.id, localDate: local, businessDate: day.businessDate,
                                                timeZone: day.timeZone.identifier)
            }
            if separatingRefunds, ticket.postsAsRealTimeRefund {
                // Posted on its own by the refund path; its card refund still counts against the batch.
                var refundLedger = JournalLedger(currency: day.currency)
                try post(ticket, into: &refundLedger, cardNetByBrand: &cardNetByBrand)
                refunds.append(RealTimeRefund(
                    journal: try buildRefund(ticket, storeID: day.storeID, timeZone: day.timeZone, currency: day.currency),
                    ticketNumber: ticket.number, refundedCents: ticket.refundedCents))
            } else {
                try post(ticket, into: &ledger, cardNetByBrand: &cardNetByBrand)
            }
        }
        if let batch = day.batch {
            guard batch.businessDate == day.businessDate else {
                throw .invalidData(record: "settlement batch \(batch.id)",
                                   problem: "is for business day \(batch.businessDate.iso), not \(day.businessDate.iso)")
            }
            try checkBatch(batch, againstTickets: cardNetByBrand)
            try postFees(batch, into: &ledger)
        }
        let reference = Self.dayReference(storeID: day.storeID, date: day.businessDate, batch: day.batch?.id)
        let key = day.batch.map { "heartland:batch:\($0.id)" } ?? "heartland:storeday:\(day.storeID):\(day.businessDate.compact)"
        if separatingRefunds, ledger.lines.isEmpty, !refunds.isEmpty {
            return Day(journal: nil, refunds: refunds)
        }
        let journal = try JournalEntry.balanced(
            source: .settlement, reference: reference, idempotencyKey: key, postingDate: day.businessDate,
            description: "Heartland store \(day.storeID) sales \(day.businessDate.sageFormat)", currency: day.currency,
            lines: ledger.lines)
        return Day(journal: journal, refunds: refunds)
    }

    func post(_ ticket: Ticket, into ledger: inout JournalLedger, cardNetByBrand: inout [String: Int64]) throws(PostingError) {
        let record = "ticket \(ticket.id) (\(ticket.number))"
        var owed: Int64 = 0
        var tendered: Int64 = 0
        func add(_ total: inout Int64, _ cents: Int64) throws(PostingError) {
            let (sum, overflow) = total.addingReportingOverflow(cents)
            guard !overflow else { throw .overflow(record: record, detail: "ticket total exceeds 64-bit cents") }
            total = sum
        }
        for line in ticket.lines {
            switch line {
            case .item(let description, let quantity, let unitPrice, let discount):
                let (gross, overflow) = quantity.multipliedReportingOverflow(by: unitPrice.minorUnits)
                guard !overflow else {
                    throw .overflow(record: record, detail: "\(quantity) × \(unitPrice) for \(description) exceeds 64-bit cents")
                }
                let amount = Money(minorUnits: gross, currency: unitPrice.currency)
                if gross >= 0 {
                    try ledger.post(.credit, rules.revenue, "Merchandise sales", amount, record: record)
                } else {
                    // Returned merchandise goes to the returns account, not back against revenue.
                    try ledger.postSigned(amount, positive: .credit, rules.returns, positiveDescription: "",
                                          negativeDescription: "Merchandise returned", record: record)
                }
                try ledger.postSigned(discount, positive: .debit, rules.discounts, positiveDescription: "Discounts given",
                                      negativeDescription: "Discounts reversed on returns", record: record)
                try add(&owed, gross)
                try add(&owed, -discount.minorUnits)
            case .discount(_, let value):
                // Heartland writes a coupon as a negative value.
                try ledger.postSigned(value, positive: .credit, rules.discounts, positiveDescription: "Discounts reversed on returns",
                                      negativeDescription: "Discounts given", record: record)
                try add(&owed, value.minorUnits)
            case .tax(_, let value):
                try ledger.postSigned(value, positive: .credit, rules.salesTax, positiveDescription: "Sales tax collected",
                                      negativeDescription: "Sales tax refunded", record: record)
                try add(&owed, value.minorUnits)
            case .giftCardSale(_, let value):
                try ledger.postSigned(value, positive: .credit, rules.giftCardSold, positiveDescription: "Gift cards sold",
                                      negativeDescription: "Gift card sales refunded", record: record)
                try add(&owed, value.minorUnits)
            case .accountPayment(_, let value):
                try ledger.postSigned(value, positive: .credit, try receivablesControl(for: ticket, record: record),
                                      positiveDescription: "Payments on account received", negativeDescription: "Payments on account reversed",
                                      record: record)
                try add(&owed, value.minorUnits)
            }
        }
        for tender in ticket.tenders {
            switch tender {
            case .cash(let amount):
                try ledger.postSigned(amount, positive: .debit, rules.cash, positiveDescription: "Cash tendered",
                                      negativeDescription: "Cash refunded", record: record)
            case .giftCard(let amount, _):
                try ledger.postSigned(amount, positive: .debit, rules.giftCardRedeemed, positiveDescription: "Gift cards redeemed",
                                      negativeDescription: "Refunded to gift cards", record: record)
            case .onAccount(let amount):
                try ledger.postSigned(amount, positive: .debit, try receivablesControl(for: ticket, record: record),
                                      positiveDescription: "Sales on account", negativeDescription: "Returns credited to account", record: record)
            case .card(let brand, let amount, let tip, _):
                guard tip.minorUnits == 0 || (tip.minorUnits > 0) == (amount.minorUnits > 0),
                      tip.minorUnits.magnitude <= amount.minorUnits.magnitude
                else {
                    throw .invalidData(record: record, problem: "has a \(brand) tender of \(amount) with a tip of \(tip) it cannot contain")
                }
                let canonical = rules.canonicalBrand(brand)
                let label = canonical == MappingRules.otherBrand ? "other brands" : canonical
                try ledger.postSigned(amount, positive: .debit, rules.clearingAccount(forBrand: brand),
                                      positiveDescription: "Card sales \(label)", negativeDescription: "Card refunds \(label)",
                                      record: record)
                try ledger.postSigned(tip, positive: .credit, rules.tips, positiveDescription: "Tips on card sales",
                                      negativeDescription: "Tips refunded", record: record)
                try add(&owed, tip.minorUnits)
                var brandNet = cardNetByBrand[canonical, default: 0]
                try add(&brandNet, amount.minorUnits)
                cardNetByBrand[canonical] = brandNet
            }
            try add(&tendered, tender.amount.minorUnits)
        }
        guard tendered == owed else { throw .ticketOutOfBalance(ticket: ticket.id, tendered: tendered, owed: owed) }
    }

    /// AR's control account for a ticket charged to (or paying down) a customer's house account: it needs a customer and
    /// a receivables rule.
    func receivablesControl(for ticket: Ticket, record: String) throws(PostingError) -> AccountRule {
        guard ticket.customerID != nil else {
            throw .invalidData(record: record, problem: "is charged to (or pays down) a house account but names no customer (customer_id)")
        }
        guard let control = rules.receivablesControl else {
            throw .invalidData(record: record, problem: "is charged to (or pays down) a house account, but the mapping \(rules.source) has no "
                + "accounts_receivable.control rule; add it (AR's control account)")
        }
        return control
    }

    /// The batch is Heartland's own account of the card tenders; if it disagrees with the
    /// tickets per brand, posting either would be wrong.
    func checkBatch(_ batch: SettlementBatch, againstTickets tickets: [String: Int64]) throws(PostingError) {
        var batchNet: [String: Int64] = [:]
        for brand in batch.brands {
            let canonical = rules.canonicalBrand(brand.brand)
            let (net, o1) = brand.totals.sales.minorUnits.subtractingReportingOverflow(brand.totals.refunds.minorUnits)
            let (sum, o2) = batchNet[canonical, default: 0].addingReportingOverflow(net)
            guard !o1, !o2 else { throw .overflow(record: "settlement batch \(batch.id)", detail: "\(brand.brand) totals exceed 64-bit cents") }
            batchNet[canonical] = sum
        }
        if batch.brands.isEmpty {
            let (net, overflow) = batch.totals.sales.minorUnits.subtractingReportingOverflow(batch.totals.refunds.minorUnits)
            guard !overflow else { throw .overflow(record: "settlement batch \(batch.id)", detail: "totals exceed 64-bit cents") }
            let ticketTotal = tickets.values.reduce(Int64(0)) { $0 &+ $1 }
            guard net == ticketTotal else {
                throw .batchDisagreesWithTickets(batch: batch.id, brand: "all brands", batchCents: net, ticketCents: ticketTotal)
            }
            return
        }
        for brand in Set(batchNet.keys).union(tickets.keys).sorted() {
            let fromBatch = batchNet[brand, default: 0]
            let fromTickets = tickets[brand, default: 0]
            guard fromBatch == fromTickets else {
                throw .batchDisagreesWithTickets(batch: batch.id, brand: brand, batchCents: fromBatch, ticketCents: fromTickets)
            }
        }
    }

    /// Fees: debit the fees account, credit the clearing account of the brand that charged them.
    func postFees(_ batch: SettlementBatch, into ledger: inout JournalLedger) throws(PostingError) {
        let record = "settlement batch \(batch.id)"
        let brands = batch.brands.allSatisfy(\.totals.fees.isZero) && !batch.totals.fees.isZero
            ? Self.splittingUnsplitFee(batch) : batch.brands
        var brandFees: Int64 = 0
        for brand in brands where !brand.totals.fees.isZero {
            let canonical = rules.canonicalBrand(brand.brand)
            let label = canonical == MappingRules.otherBrand ? "other brands" : canonical
            try ledger.postSigned(brand.totals.fees, positive: .debit, rules.processingFees,
                                  positiveDescription: "Processing fees \(label)", negativeDescription: "Processing fee credits \(label)",
                                  record: record)
            try ledger.postSigned(brand.totals.fees, positive: .credit, rules.clearingAccount(forBrand: brand.brand),
                                  positiveDescription: "Processing fees \(label)", negativeDescription: "Processing fee credits \(label)",
                                  record: record)
            let (sum, overflow) = brandFees.addingReportingOverflow(brand.totals.fees.minorUnits)
            guard !overflow else { throw .overflow(record: record, detail: "fees exceed 64-bit cents") }
            brandFees = sum
        }
        guard brandFees == batch.totals.fees.minorUnits || brands.isEmpty else {
            throw .invalidData(record: record, problem: "carries fees of \(batch.totals.fees) but its brand breakdown sums to "
                + "\(Money.decimalString(brandFees)); fees cannot be attributed to a clearing account")
        }
    }

    /// A fee the batch carries only as a total is split over its brands in proportion to their net sales (sales less
    /// refunds, tips included), to the cent (largest remainder; ties to the brand named first alphabetically), so each
    /// brand's clearing account is credited with its share. A batch without a brand breakdown credits the other-brands
    /// clearing account.
    static func splittingUnsplitFee(_ batch: SettlementBatch) -> [BrandTotals] {
        let fee = batch.totals.fees
        func net(_ brand: BrandTotals) -> Int64 { brand.totals.sales.minorUnits &- brand.totals.refunds.minorUnits }
        let weighted = batch.brands.filter { net($0) > 0 }
        guard !weighted.isEmpty else {
            // No brand sold more than it refunded: the whole fee to the first brand by name (other brands without any).
            var whole = batch.brands.min { $0.brand < $1.brand } ?? BrandTotals(brand: MappingRules.otherBrand, totals: batch.totals)
            whole.totals.fees = fee
            return [whole]
        }
        let total = weighted.reduce(Int64(0)) { $0 &+ net($1) }
        var shares = weighted.map { brand -> (brand: BrandTotals, cents: Int64, remainder: Int64) in
            let product = fee.minorUnits.multipliedFullWidth(by: net(brand))
            let (quotient, remainder) = total.dividingFullWidth(product)
            return (brand, quotient, remainder)
        }
        var left = fee.minorUnits &- shares.reduce(Int64(0)) { $0 &+ $1.cents }
        for index in shares.indices.sorted(by: { (shares[$1].remainder, shares[$0].brand.brand) < (shares[$0].remainder, shares[$1].brand.brand) })
        where left > 0 {
            shares[index].cents &+= 1
            left -= 1
        }
        return shares.map { share in
            var brand = share.brand
            brand.totals.fees = Money(minorUnits: share.cents, currency: fee.currency)
            return brand
        }
    }
}
