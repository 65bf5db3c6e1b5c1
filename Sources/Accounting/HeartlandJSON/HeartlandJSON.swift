import Foundation

/// Reads the JSON heartland-sim (and Heartland) serves into the domain model. The wire shapes
/// stay private here; field names on the wire and in the domain differ as follows:
/// batch `batch_id`/`id` → `SettlementBatch.id`, `business_day` → `businessDate`, `sales.amount`
/// → `totals.sales`, `gratuity_amount` → `tips`, `fee_amount` → `fees`, `brand_breakdown[]` → `brands`;
/// ticket `public_id` → `number`, `status: void` → `isVoid`, `return_of_ticket_id` → `returnOf`,
/// `lines[].type` (`ItemLine`, `DiscountLine`, `TaxLine`, `GiftCardLine`, `AccountPaymentLine`) → `TicketLine` cases
/// with `qty`, `unit_price`, `discount_amount`, `value`; `payments[]` (`payment_type` `Cash`,
/// `Credit Card`, `Gift Card`, `On Account`; `amount` incl. `tip_amount`; `card_type`) → `Tender`; `customer_id` → `customerID`;
/// pay run `run_id` → `id`, `paychecks[].gross/net/taxes[]{code,type,amount}/deductions[]`.
public enum HeartlandJSON {
    /// A GP-API batch (`GET /ucp/batches/{id}` or the `batch.closed` webhook's `data`).
    public static func settlementBatch(from data: Data) throws -> SettlementBatch {
        let wire = try decoder.decode(WireBatch.self, from: data)
        return try wire.batch()
    }

    /// Tickets: a JSON array of tickets, a Heartland Retail page `{results: [...]}`, an array of such
    /// pages as heartland-ingest carries them (every page as served), or one ticket as served.
    public static func tickets(from data: Data, currency: CurrencyCode) throws -> [Ticket] {
        try retailRecords(WireTicket.self, from: data, decoder: TicketKeys.decoder(for: data))
            .map { ticket throws(HeartlandDataError) in try ticket.ticket(currency: currency) }
    }

    /// Retail records in every shape ingest carries them: a page `{results: [...]}`, an array of pages,
    /// an array of records, or one record (`GET /api/sales/tickets/{id}`).
    /// The payload is parsed once whatever its shape (a failed attempt at one shape does not parse it again for the next).
    static func retailRecords<Element: Decodable>(_ type: Element.Type, from data: Data, decoder: JSONDecoder) throws -> [Element] {
        try decoder.decode(RetailRecords<Element>.self, from: data).records
    }

    /// A pay run: the run object (the `payroll.completed` webhook's `data`) or the payroll envelope of
    /// `GET /payroll/pay_runs/{id}` (`{TotalRecords, Results: [run], …}`) holding exactly one run.
    public static func payRun(from data: Data, currency: CurrencyCode) throws -> PayRun {
        if let envelope = try? decoder.decode(WirePayrollEnvelope.self, from: data) {
            guard envelope.Results.count == 1 else {
                throw HeartlandDataError(record: "payroll answer", field: "Results", problem: "holds \(envelope.Results.count) pay runs, not one")
            }
            return try envelope.Results[0].payRun(currency: currency)
        }
        return try decoder.decode(WirePayRun.self, from: data).payRun(currency: currency)
    }

    /// `.convertFromSnakeCase`, each key converted once per process (`SnakeCaseKeys`).
    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = SnakeCaseKeys.strategy
        return decoder
    }
}

struct WirePage<Element: Decodable>: Decodable { var results: [Element] }

/// Retail records in the shapes `HeartlandJSON.retailRecords` reads, tried in this order on one parse: a page, an array of
/// pages, one record (any other object), an array of records.
struct RetailRecords<Element: Decodable>: Decodable {
    var records: [Element]

    private enum PageKey: String, CodingKey { case results }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: PageKey.self) {
            if object.contains(.results), let page = try? WirePage<Element>(from: decoder) {
                records = page.results
            } else {
                records = [try Element(from: decoder)]
            }
            return
        }
        if let pages = try? [WirePage<Element>](from: decoder) {
            records = pages.flatMap(\.results)
            return
        }
        records = try [Element](from: decoder)
    }
}

private struct WireTotals: Decodable {
    struct Part: Decodable {
        var count: Int
        var amount: HeartlandAmount
    }
    var brand: String?
    var count: Int?
    var sales: Part
    var refunds: Part
    var gratuityAmount: HeartlandAmount?
    var feeAmount: HeartlandAmount?

    func totals(currency: CurrencyCode, record: String) throws(HeartlandDataError) -> CardTotals {
        let zero = Money.zero(currency)
        // GP-API writes refunds positive; a negative spelling is repaired, not doubled.
        let refunded: Money
        do {
            refunded = try refunds.amount.money(.minor, currency: currency, field: "refunds.amount", record: record).magnitude()
        } catch let error as HeartlandDataError {
            throw error
        } catch {
            throw HeartlandDataError(record: record, field: "refunds.amount", problem: "\(error)")
        }
        return CardTotals(
            transactionCount: count ?? (sales.count + refunds.count), salesCount: sales.count,
            sales: try sales.amount.money(.minor, currency: currency, field: "sales.amount", record: record),
            refundsCount: refunds.count,
            refunds: refunded,
            tips: try gratuityAmount?.money(.minor, currency: currency, field: "gratuity_amount", record: record) ?? zero,
            fees: try feeAmount?.money(.minor, currency: currency, field: "fee_amount", record: record) ?? zero)
    }
}

private struct WireBatch: Decodable {
    var id: String?
    var batchId: String?
    var businessDay: String?
    var currency: String?
    var count: Int?
    var sales: WireTotals.Part
    var refunds: WireTotals.Part
    var gratuityAmount: HeartlandAmount?
    var feeAmount: HeartlandAmount?
    var brandBreakdown: [WireTotals]?

    func batch() throws -> SettlementBatch {
        guard let id = batchId ?? id, !id.isEmpty else {
            throw HeartlandDataError(record: "settlement batch", field: "batch_id", problem: "is missing")
        }
        let record = "settlement batch \(id)"
        guard let businessDay else { throw HeartlandDataError(record: record, field: "business_day", problem: "is missing") }
        let date: BusinessDate
        do { date = try BusinessDate(parsing: businessDay) } catch {
            throw HeartlandDataError(record: record, field: "business_day", problem: error.description)
        }
        let currency: CurrencyCode
        do { currency = try CurrencyCode(self.currency ?? "USD") } catch {
            throw HeartlandDataError(record: record, field: "currency", problem: error.description)
        }
        let whole = WireTotals(brand: nil, count: count, sales: sales, refunds: refunds, gratuityAmount: gratuityAmount, feeAmount: feeAmount)
        let brands = try (brandBreakdown ?? []).map { brand throws(HeartlandDataError) in
            BrandTotals(brand: brand.brand ?? "", totals: try brand.totals(currency: currency, record: "\(record) brand \(brand.brand ?? "?")"))
        }
        return SettlementBatch(id: BatchID(id), businessDate: date, totals: try whole.totals(currency: currency, record: record), brands: brands)
    }
}

struct WireTicket: Decodable {
    struct Line: Decodable {
        var id: Int64?
        var type: String
        var description: String?
        var qty: Int64?
        var unitPrice: HeartlandAmount?
        var discountAmount: HeartlandAmount?
        var value: HeartlandAmount?
        var giftCardNumber: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, type, description, qty, unitPrice = "unit_price", discountAmount = "discount_amount", value
            case giftCardNumber = "gift_card_number"
        }
    }
    struct Payment: Decodable {
        var id: Int64?
        var paymentType: String
        var amount: HeartlandAmount
        var tipAmount: HeartlandAmount?
        var cardType: String?
        var giftCardNumber: String?
        var gatewayTransactionId: String?
        /// Details (`TicketDetails`), read leniently: never an error.
        var last4: TicketDetails.LenientString?
        var entryMode: TicketDetails.LenientString?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case id, paymentType = "payment_type", amount, tipAmount = "tip_amount", cardType = "card_type"
            case giftCardNumber = "gift_card_number", gatewayTransactionId = "gateway_transaction_id", last4, entryMode = "entry_mode"
        }
    }
    var id: Int64
    var publicId: String?
    var status: String
    var completedAt: String
    /// Retail writes none (the store's currency); a record that names another one does not post.
    var currency: String?
    var returnOfTicketId: Int64?
    /// Read leniently (a number or a string of digits): only on-account tickets need it, and they say so when it is missing.
    var customerId: LenientID?
    var lines: [Line]
    var payments: [Payment]
    /// Details (`TicketDetails`), read leniently: never an error.
    var stationId: TicketDetails.LenientInt?
    var salesRep: TicketDetails.LenientString?

    /// As Heartland spells them: a ticket is read without converting its keys when it spells them so (`TicketKeys`).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, publicId = "public_id", status, completedAt = "completed_at", currency, returnOfTicketId = "return_of_ticket_id"
        case customerId = "customer_id", lines, payments, stationId = "station_id", salesRep = "sales_rep"
    }

    init(from decoder: any Decoder) throws {
        try self.init(from: decoder.container(keyedBy: CodingKeys.self))
    }

    /// From a record's container, which a reader of the same record's identity shares: JSONDecoder builds a dictionary of
    /// an object's keys for every container it is asked for (issue 21: three per record were a sixth of the transformer's
    /// reading). The fields in their declared order, as a synthesized reading would, so the first bad one is named.
    init(from container: KeyedDecodingContainer<CodingKeys>) throws {
        id = try container.decode(Int64.self, forKey: .id)
        publicId = try container.decodeIfPresent(String.self, forKey: .publicId)
        status = try container.decode(String.self, forKey: .status)
        completedAt = try container.decode(String.self, forKey: .completedAt)
        currency = try container.decodeIfPresent(String.self, forKey: .currency)
        returnOfTicketId = try container.decodeIfPresent(Int64.self, forKey: .returnOfTicketId)
        customerId = try container.decodeIfPresent(LenientID.self, forKey: .customerId)
        lines = try container.decode([Line].self, forKey: .lines)
        payments = try container.decode([Payment].self, forKey: .payments)
        stationId = (try? container.decodeIfPresent(TicketDetails.LenientInt.self, forKey: .stationId)) ?? nil
        salesRep = (try? container.decodeIfPresent(TicketDetails.LenientString.self, forKey: .salesRep)) ?? nil
    }

    /// The ticket's details, as `TicketDetails.parse` reads them from the same record.
    func details() -> TicketDetails {
        TicketDetails(ticketID: TicketID(String(id)), stationId: stationId?.value, salesRep: salesRep?.value,
                      payments: payments.map { TicketDetails.Payment(id: $0.id, last4: $0.last4?.value, entryMode: $0.entryMode?.value) })
    }

    struct LenientID: Decodable {
        var text: String?
        init(text: String?) { self.text = text }
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            text = (try? container.decode(Int64.self)).map(String.init) ?? (try? container.decode(String.self)).flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    func ticket(currency: CurrencyCode) throws(HeartlandDataError) -> Ticket {
        let record = "ticket \(id)"
        let zero = Money.zero(currency)
        if let written = self.currency, written.uppercased() != currency.description.uppercased() {
            throw HeartlandDataError(record: record, field: "currency", problem: "is \(written), not the store's \(currency); currencies are never converted")
        }
        func amount(_ value: HeartlandAmount?, _ field: String) throws(HeartlandDataError) -> Money {
            try value?.money(.major, currency: currency, field: field, record: record) ?? zero
        }
        // Each array at its size: a day's tickets are held together while its journals are built (issue 21).
        var domainLines: [TicketLine] = []
        domainLines.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            let field = "lines[\(index)]"
            switch MappingRules.normalisedSpelling(line.type) {
            case "ITEMLINE":
                guard let quantity = line.qty, let unitPrice = line.unitPrice else {
                    throw HeartlandDataError(record: record, field: field, problem: "an item line needs qty and unit_price")
                }
                domainLines.append(.item(description: line.description ?? "", quantity: quantity,
                                         unitPrice: try amount(unitPrice, "\(field).unit_price"),
                                         discount: try amount(line.discountAmount, "\(field).discount_amount")))
            case "DISCOUNTLINE":
                domainLines.append(.discount(description: line.description ?? "", value: try amount(line.value, "\(field).value")))
            case "TAXLINE":
                domainLines.append(.tax(description: line.description ?? "", value: try amount(line.value, "\(field).value")))
            case "GIFTCARDLINE":
                domainLines.append(.giftCardSale(cardNumber: line.giftCardNumber, value: try amount(line.value, "\(field).value")))
            case "ACCOUNTPAYMENTLINE":
                domainLines.append(.accountPayment(description: line.description ?? "", value: try amount(line.value, "\(field).value")))
            default:
                throw HeartlandDataError(record: record, field: "\(field).type",
                                         problem: "\"\(line.type)\" is not ItemLine, DiscountLine, TaxLine, GiftCardLine or AccountPaymentLine")
            }
        }
        var tenders: [Tender] = []
        tenders.reserveCapacity(payments.count)
        for (index, payment) in payments.enumerated() {
            let field = "payments[\(index)]"
            let value = try amount(payment.amount, "\(field).amount")
            switch MappingRules.normalisedSpelling(payment.paymentType) {
            case "CASH":
                if let tip = try payment.tipAmount.map({ tip throws(HeartlandDataError) in try amount(tip, "\(field).tip_amount") }), !tip.isZero {
                    throw HeartlandDataError(record: record, field: "\(field).tip_amount",
                                             problem: "a cash tender carries a tip of \(tip); tips are taken on cards only, so the ticket cannot be posted as written")
                }
                tenders.append(.cash(amount: value))
            case "CREDITCARD", "DEBITCARD", "CARD", "CREDIT", "DEBIT":
                tenders.append(.card(brand: payment.cardType ?? "", amount: value, tip: try amount(payment.tipAmount, "\(field).tip_amount"),
                                     transactionID: payment.gatewayTransactionId.map(TransactionID.init)))
            case "GIFTCARD":
                tenders.append(.giftCard(amount: value, cardNumber: payment.giftCardNumber))
            case "ONACCOUNT", "HOUSEACCOUNT", "CUSTOMERACCOUNT":
                tenders.append(.onAccount(amount: value))
            default:
                throw HeartlandDataError(record: record, field: "\(field).payment_type",
                                         problem: "\"\(payment.paymentType)\" is not Cash, Credit Card, Gift Card or On Account")
            }
        }
        let isVoid: Bool
        switch status.lowercased() {
        case "complete", "completed": isVoid = false
        case "void", "voided": isVoid = true
        default: throw HeartlandDataError(record: record, field: "status", problem: "\"\(status)\" is not complete or void")
        }
        return Ticket(id: TicketID(String(id)), number: publicId ?? String(id),
                      completedAt: try HeartlandTimestamp.parse(completedAt, field: "completed_at", record: record),
                      isVoid: isVoid, returnOf: returnOfTicketId.map { TicketID(String($0)) }, lines: domainLines, tenders: tenders,
                      customerID: customerId?.text)
    }
}

private struct WirePayrollEnvelope: Decodable {
    var Results: [WirePayRun]
}

private struct WirePayRun: Decodable {
    struct Tax: Decodable {
        var code: String
        var type: String
        var amount: HeartlandAmount
    }
    struct Deduction: Decodable {
        var code: String
        var description: String?
        var amount: HeartlandAmount
    }
    struct Check: Decodable {
        var employeeId: String
        var name: String?
        var gross: HeartlandAmount
        var net: HeartlandAmount
        var taxes: [Tax]
        var deductions: [Deduction]
    }
    var runId: String?
    var id: String?
    var checkDate: String
    var paychecks: [Check]

    func payRun(currency: CurrencyCode) throws -> PayRun {
        guard let id = runId ?? id else { throw HeartlandDataError(record: "pay run", field: "run_id", problem: "is missing") }
        let record = "pay run \(id)"
        let date: BusinessDate
        do { date = try BusinessDate(parsing: checkDate) } catch {
            throw HeartlandDataError(record: record, field: "check_date", problem: error.description)
        }
        let checks = try paychecks.map { check throws(HeartlandDataError) in
            let who = "\(record) employee \(check.employeeId)"
            let taxes = try check.taxes.map { tax throws(HeartlandDataError) in
                guard let payer = PayrollTax.Payer(rawValue: tax.type.uppercased()) else {
                    throw HeartlandDataError(record: who, field: "taxes.\(tax.code).type", problem: "\"\(tax.type)\" is not EMPLOYEE or EMPLOYER")
                }
                return PayrollTax(code: tax.code, payer: payer, amount: try tax.amount.money(.major, currency: currency, field: "taxes.\(tax.code)", record: who))
            }
            let deductions = try check.deductions.map { d throws(HeartlandDataError) in
                PayrollDeduction(code: d.code, description: d.description ?? d.code,
                                 amount: try d.amount.money(.major, currency: currency, field: "deductions.\(d.code)", record: who))
            }
            return Paycheck(employeeID: EmployeeID(check.employeeId), employeeName: check.name ?? "",
                            gross: try check.gross.money(.major, currency: currency, field: "gross", record: who),
                            net: try check.net.money(.major, currency: currency, field: "net", record: who), taxes: taxes, deductions: deductions)
        }
        return PayRun(id: PayRunID(id), checkDate: date, currency: currency, paychecks: checks)
    }
}
