import Foundation

/// A ticket record read plainly (`PlainJSON`): what `WireTicket(from:)` reads through `JSONDecoder`, field for field, for a
/// record written as Heartland writes them. A record written otherwise (a field of another type than Heartland's, a key to
/// convert such as `completedAt`, a key twice, an escape, a fractional id) is declined and read by `JSONDecoder` as before,
/// so a record reads the same either way (`PlainTicketReadingTests` holds the two readings to each other).
extension WireTicket {
    /// The record read plainly; nil when it is not written plainly.
    static func plainly(_ raw: Data) -> WireTicket? {
        PlainJSON.value(of: raw) { json throws(PlainJSON.Declined) in try WireTicket(plain: &json) }
    }

    private static let fields = PlainJSON.Fields(CodingKeys.allCases)

    private init(plain json: inout PlainJSON) throws(PlainJSON.Declined) {
        var id: Int64?, publicId: String?, status: String?, completedAt: String?, currency: String?, returnOf: Int64?
        var customer: LenientID?, lines: [Line]?, payments: [Payment]?
        var station: TicketDetails.LenientInt?, rep: TicketDetails.LenientString?
        try json.members(Self.fields) { json, field throws(PlainJSON.Declined) in
            switch field {
            case .id: id = try json.integer()
            case .publicId: publicId = try json.optionalString()
            case .status: status = try json.string()
            case .completedAt: completedAt = try json.string()
            case .currency: currency = try json.optionalString()
            case .returnOfTicketId: returnOf = try json.optionalInteger()
            case .customerId: customer = try json.lenientID()
            case .lines: lines = try json.objects { json throws(PlainJSON.Declined) in try Line(plain: &json) }
            case .payments: payments = try json.objects { json throws(PlainJSON.Declined) in try Payment(plain: &json) }
            case .stationId:
                station = try json.optional { json throws(PlainJSON.Declined) in
                    TicketDetails.LenientInt(value: json.isString ? Int64(try json.string()) : try json.integer())
                }
            case .salesRep: rep = try json.lenientString()
            }
        }
        guard let id, let status, let completedAt, let lines, let payments else { throw PlainJSON.Declined() }
        self.id = id
        self.publicId = publicId
        self.status = status
        self.completedAt = completedAt
        self.currency = currency
        self.returnOfTicketId = returnOf
        self.customerId = customer
        self.lines = lines
        self.payments = payments
        self.stationId = station
        self.salesRep = rep
    }
}

extension WireTicket.Line {
    private static let fields = PlainJSON.Fields(CodingKeys.allCases)

    fileprivate init(plain json: inout PlainJSON) throws(PlainJSON.Declined) {
        var id: Int64?, type: String?, description: String?, qty: Int64?, giftCardNumber: String?
        var unitPrice: HeartlandAmount?, discountAmount: HeartlandAmount?, value: HeartlandAmount?
        try json.members(Self.fields) { json, field throws(PlainJSON.Declined) in
            switch field {
            case .id: id = try json.optionalInteger()
            case .type: type = try json.string()
            case .description: description = try json.optionalString()
            case .qty: qty = try json.optionalInteger()
            case .unitPrice: unitPrice = try json.amount()
            case .discountAmount: discountAmount = try json.amount()
            case .value: value = try json.amount()
            case .giftCardNumber: giftCardNumber = try json.optionalString()
            }
        }
        guard let type else { throw PlainJSON.Declined() }
        self.init(id: id, type: type, description: description, qty: qty, unitPrice: unitPrice, discountAmount: discountAmount,
                  value: value, giftCardNumber: giftCardNumber)
    }
}

extension WireTicket.Payment {
    private static let fields = PlainJSON.Fields(CodingKeys.allCases)

    fileprivate init(plain json: inout PlainJSON) throws(PlainJSON.Declined) {
        var id: Int64?, paymentType: String?, amount: HeartlandAmount?, tipAmount: HeartlandAmount?, cardType: String?
        var giftCardNumber: String?, gatewayTransactionId: String?, last4: TicketDetails.LenientString?, entryMode: TicketDetails.LenientString?
        try json.members(Self.fields) { json, field throws(PlainJSON.Declined) in
            switch field {
            case .id: id = try json.optionalInteger()
            case .paymentType: paymentType = try json.string()
            case .amount: amount = try json.amount()
            case .tipAmount: tipAmount = try json.amount()
            case .cardType: cardType = try json.optionalString()
            case .giftCardNumber: giftCardNumber = try json.optionalString()
            case .gatewayTransactionId: gatewayTransactionId = try json.optionalString()
            case .last4: last4 = try json.lenientString()
            case .entryMode: entryMode = try json.lenientString()
            }
        }
        guard let paymentType, let amount else { throw PlainJSON.Declined() }
        self.init(id: id, paymentType: paymentType, amount: amount, tipAmount: tipAmount, cardType: cardType, giftCardNumber: giftCardNumber,
                  gatewayTransactionId: gatewayTransactionId, last4: last4, entryMode: entryMode)
    }
}

extension PlainJSON {
    /// The fields of an object a reading asks for (its `CodingKeys`), found by their bytes.
    fileprivate struct Fields<Field: RawRepresentable<String>>: Sendable where Field: Sendable {
        let cases: [Field]
        let spellings: Spellings

        init(_ cases: some Collection<Field>) {
            self.cases = Array(cases)
            spellings = Spellings(self.cases.map(\.rawValue))
        }
    }

    /// An object's members: each of `fields` given to `member` to read its value (a field met twice declines), the other
    /// keys' values passed over (`skipUnasked`).
    fileprivate mutating func members<Field>(_ fields: Fields<Field>, _ member: (inout PlainJSON, Field) throws(Declined) -> Void) throws(Declined) {
        var seen = Seen()
        try object { json, key throws(Declined) in
            guard let field = fields.spellings.index(of: key) else { return try json.skipUnasked(key) }
            try seen.insert(field)
            try member(&json, fields.cases[field])
        }
    }

    fileprivate mutating func optionalString() throws(Declined) -> String? {
        try optional { json throws(Declined) in try json.string() }
    }

    fileprivate mutating func optionalInteger() throws(Declined) -> Int64? {
        try optional { json throws(Declined) in try json.integer() }
    }

    /// Nil for `null` (as `decodeIfPresent` reads it), else what `read` reads.
    fileprivate mutating func optional<T>(_ read: (inout PlainJSON) throws(Declined) -> T) throws(Declined) -> T? {
        null() ? nil : try read(&self)
    }

    /// An amount as `HeartlandAmount(from:)` keeps it: a number as `DecimalText` writes it, or a string as it is.
    fileprivate mutating func amount() throws(Declined) -> HeartlandAmount? {
        try optional { json throws(Declined) in HeartlandAmount(text: json.isString ? try json.string() : try json.decimalText()) }
    }

    /// `WireTicket.LenientID`: an integer as its digits, or a string (an empty one is none).
    fileprivate mutating func lenientID() throws(Declined) -> WireTicket.LenientID? {
        try optional { json throws(Declined) in
            WireTicket.LenientID(text: try json.stringOrDigits().nonEmpty)
        }
    }

    /// `TicketDetails.LenientString`: a string, or an integer as its digits.
    fileprivate mutating func lenientString() throws(Declined) -> TicketDetails.LenientString? {
        try optional { json throws(Declined) in TicketDetails.LenientString(value: try json.stringOrDigits()) }
    }

    /// The value of a key no reading of the object asks for, passed over. A key that `JSONDecoder` would read as a field
    /// (`completedAt`, `Payment_Type`, through the conversion of keys a record spelled so is read with) declines.
    fileprivate mutating func skipUnasked(_ key: UnsafeBufferPointer<UInt8>) throws(Declined) {
        guard TicketKeys.isReadAlike(key: key) else { throw Declined() }
        try skipValue()
    }
}

/// heartland-ingest's sketch of a record (`SketchReading`), read plainly: what `SketchReading(from:)` reads when each of the
/// fields it asks for is of the kind Heartland writes (held to it by `PlainTicketReadingTests`).
extension SketchReading {
    private static let fields = PlainJSON.Fields(CodingKeys.allCases)
    private static let paymentFields = PlainJSON.Fields(Payment.CodingKeys.allCases)
    private static let lineFields = PlainJSON.Fields(Line.CodingKeys.allCases)

    /// The sketch of a record written plainly; nil when it is not.
    static func plainly(_ raw: Data) -> SketchReading? {
        PlainJSON.value(of: raw) { json throws(PlainJSON.Declined) in try SketchReading(plain: &json) }
    }

    private init(plain json: inout PlainJSON) throws(PlainJSON.Declined) {
        var id: String?, completedAt: String?, customer: WireTicket.LenientID?
        var payments: [(transaction: String?, type: String?)] = [], lineTypes: [String?] = []
        try json.members(Self.fields) { json, field throws(PlainJSON.Declined) in
            switch field {
            case .id: id = try json.optional { json throws(PlainJSON.Declined) in try json.stringOrDigits() }
            case .publicId: _ = try json.optionalString()
            case .completedAt: completedAt = try json.optionalString()
            case .customerId: customer = try json.lenientID()
            case .payments: payments = try json.optional { json throws(PlainJSON.Declined) in try json.objects(Self.payment) } ?? []
            case .lines: lineTypes = try json.optional { json throws(PlainJSON.Declined) in try json.objects(Self.lineType) } ?? []
            }
        }
        self.init(id: id, completedAt: completedAt, transactionIDs: payments.map(\.transaction),
                  houseAccountCustomerID: customer?.text.flatMap {
                      Self.houseAccountCustomer($0, paymentTypes: payments.map(\.type), lineTypes: lineTypes)
                  })
    }

    private static func payment(_ json: inout PlainJSON) throws(PlainJSON.Declined) -> (transaction: String?, type: String?) {
        var transaction: String?, type: String?
        try json.members(paymentFields) { json, field throws(PlainJSON.Declined) in
            switch field {
            case .gatewayTransactionId: transaction = try json.optionalString()
            case .paymentType: type = try json.optionalString()
            }
        }
        return (transaction, type)
    }

    private static func lineType(_ json: inout PlainJSON) throws(PlainJSON.Declined) -> String? {
        var type: String?
        try json.members(lineFields) { json, _ throws(PlainJSON.Declined) in type = try json.optionalString() }
        return type
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
