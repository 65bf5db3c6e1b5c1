import Foundation

/// The keys of a Retail ticket record as the readings of tickets (`WireTicket`, `SketchReading`) ask for them: spelled as
/// Heartland spells them (`completed_at`), read as Foundation's `.convertFromSnakeCase` reads them (`COMPLETED_AT` and
/// `completedAt` are `completed_at` too).
///
/// Converting every key of every object was a quarter of the time JSONDecoder took to read a day's tickets (issue 21: a
/// key strategy is asked about each key with its whole coding path, built anew). So a record whose every key is read
/// the same without conversion, as Heartland writes them all, is read without a key strategy; any other record is read
/// with the conversion, as before.
enum TicketKeys {
    /// Every key a reading of tickets asks for.
    static let fields: Set<String> = {
        var fields = Set(WireTicket.CodingKeys.allCases.map(\.rawValue))
        fields.formUnion(WireTicket.Line.CodingKeys.allCases.map(\.rawValue))
        fields.formUnion(WireTicket.Payment.CodingKeys.allCases.map(\.rawValue))
        fields.formUnion(SketchReading.CodingKeys.allCases.map(\.rawValue))
        fields.formUnion(SketchReading.Payment.CodingKeys.allCases.map(\.rawValue))
        fields.formUnion(SketchReading.Line.CodingKeys.allCases.map(\.rawValue))
        return fields
    }()

    /// Each field by what the conversion makes of its spelling (`completedAt` → `completed_at`).
    private static let fieldsByConversion = Dictionary(uniqueKeysWithValues: fields.map { (SnakeCaseKeys.converted($0), $0) })

    /// Keys known to read the same with or without the conversion: the fields, and Heartland's other ticket keys.
    private static let plainlySpelled = Set((fields.union(SnakeCaseKeys.ticketKeys)).filter(isReadAlike))

    /// The field `key` is read as when converted: the field whose spelling converts as `key` does, or, when none does,
    /// what the conversion makes of `key` (which no field asks for).
    static func spelling(_ key: String) -> String {
        if fields.contains(key) { return key }
        let converted = SnakeCaseKeys.converted(key)
        return fieldsByConversion[converted] ?? converted
    }

    /// The conversion for tickets: each key read as the field its spelling converts to.
    static let strategy: JSONDecoder.KeyDecodingStrategy = .custom { path in
        SnakeCaseKeys.AnyKey(spelling(path.last?.stringValue ?? ""))
    }

    /// A decoder for the ticket JSON `json` (a record, a page, an array of either): without a key strategy when every key
    /// in it, at any depth, is read alike (`isReadAlike`), else with the conversion.
    static func decoder(for json: Data) -> JSONDecoder {
        let decoder = JSONDecoder()
        if !areReadAlike(json) { decoder.keyDecodingStrategy = strategy }
        return decoder
    }

    /// Whether `key` reads the same field, or none, with the conversion and without: it is a field's own spelling, or no
    /// field's spelling converts as it does (`loyalty_points`, `Notes`); not `COMPLETED_AT`, `completedAt`, `last_4`.
    static func isReadAlike(_ key: String) -> Bool {
        let field = spelling(key)
        return field == key || !fields.contains(field)
    }

    /// Whether every key of `json` is read alike. A key is a string followed by a colon; one with an escape in it is taken
    /// as not read alike (rare, and the conversion reads it right whatever it says).
    static func areReadAlike(_ json: Data) -> Bool {
        json.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var index = 0
            while let open = nextQuote(in: bytes, from: index) {
                // Not JSON: the decoder says so, with the conversion or without.
                guard let close = JSONStringBytes.closingMark(in: bytes, from: open + 1) else { return true }
                index = close + 1
                while index < bytes.count, PlainJSON.isSpace(bytes[index]) { index += 1 }
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { continue }
                if !isReadAlike(key: UnsafeBufferPointer(rebasing: bytes[(open + 1)..<close])) { return false }
            }
            return true
        }
    }

    /// Whether the key whose bytes (between its quotation marks) are `key` is read alike; one with an escape is taken as not.
    static func isReadAlike(key: UnsafeBufferPointer<UInt8>) -> Bool {
        // Most of Heartland's keys are lower-case letters and digits, which no conversion changes; most of the others are
        // its other keys (`original_unit_price`), found without making a string of them.
        if key.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            return true
        }
        if key.contains(UInt8(ascii: "\\")) { return false }
        if plainlySpelledKeys.index(of: key) != nil { return true }
        return isReadAlike(String(decoding: key, as: UTF8.self))
    }

    private static let plainlySpelledKeys = PlainJSON.Spellings(plainlySpelled.sorted())

    private static func nextQuote(in bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int? {
        guard index < bytes.count, let found = memchr(bytes.baseAddress! + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else { return nil }
        return UnsafeRawPointer(bytes.baseAddress!).distance(to: UnsafeRawPointer(found))
    }
}
