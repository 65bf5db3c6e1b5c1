import Foundation
import HeartlandSimulator
import Messaging
import StableHash
import Testing

/// `CardMask`, the one masking function, against seeded random card numbers: every length 13–19, every
/// brand prefix, in every shape a PAN has been seen in (grouped, with a CVV or expiry, two in a row, glued
/// to letters, track 1 and 2, a JSON number, JSON escapes), inside random text and random JSON.
///
/// "Never survives" means: in the output with JSON digit escapes decoded and the separators (space, `-`,
/// `.`, `/`, `\`) removed, no seven consecutive digits of the PAN appear. Any seven consecutive digits of
/// a PAN of 13 or more take at least one of the digits between the first six and the last four, so this
/// holds exactly when every middle digit is gone (and the whole PAN, separators removed, is gone too).
@Suite struct CardMaskPropertyTests {
    // MARK: exact shapes

    @Test(arguments: [
        ("4111 1111 1111 1111", "4111 11** **** 1111"),
        ("4111-1111-1111-1111", "4111-11**-****-1111"),
        ("4111.1111.1111.1111", "4111.11**.****.1111"),
        ("4111/1111/1111/1111", "4111/11**/****/1111"),
        ("card 4111111111111111 123 ok", "card 411111******1111 123 ok"),
        ("4111111111111111 12/27", "411111******1111 12/27"),
        ("4111111111111111 5500000000000004", "411111******1111 550000******0004"),
        ("4111 1111 1111 1111 5500 0000 0000 0004", "4111 11** **** 1111 5500 00** **** 0004"),
        ("cc4111111111111111", "cc411111******1111"),
        ("4111111111111111D", "411111******1111D"),
        ("%B4111111111111111^DOE/JOHN^2512101000000000?", "%B411111******1111^[track data removed]"),
        ("swiped ;4111111111111111=25121010000000000? ok", "swiped ;411111******1111=[track data removed] ok"),
        ("twice %B4111111111111111^DOE/JOHN^2512101000000000? and %B5500000000000004^ROE/RICHARD^2601101?",
         "twice %B411111******1111^[track data removed] and %B550000******0004^[track data removed]"),
    ])
    func eachShapeIsMasked(_ text: String, _ expected: String) {
        #expect(CardMask.mask(text) == expected)
    }

    @Test func jsonNumbersAndEscapesAreMaskedAndTheBodyStaysJSON() throws {
        let body = #"{"note": 4111111111111111, "escaped": "\u0034111111111111111", "slashed": "4111\/1111\/1111\/1111", "n": -1}"#
        let (scrubbed, masked) = CardMask.scrub(Data(body.utf8))
        #expect(masked == 3)
        #expect(String(decoding: scrubbed, as: UTF8.self)
            == #"{"note": "411111******1111", "escaped": "\u003411111******1111", "slashed": "4111\/11**\/****\/1111", "n": -1}"#)
        _ = try JSONSerialization.jsonObject(with: scrubbed)
    }

    /// The shortest card numbers, 13 digits, filling a string's body or a number alone, are masked: a body or number shorter
    /// than a card number is passed over unscanned (issue 21), and these are not shorter.
    @Test func theShortestCardNumberAloneInAStringOrANumberIsMasked() {
        let body = #"{"a": "4222222222222", "b": 4222222222222, "c": "422222222222", "d": 422222222222}"#
        let (scrubbed, masked) = CardMask.scrub(Data(body.utf8))
        #expect(masked == 2)
        #expect(String(decoding: scrubbed, as: UTF8.self)
            == #"{"a": "422222***2222", "b": "422222***2222", "c": "422222222222", "d": 422222222222}"#)
    }

    /// Heartland's own ids are numbers (a ticket line's has 13 digits and can pass Luhn): left alone under
    /// identifier keys, masked anywhere else.
    @Test func numbersUnderIdentifierKeysAreLeftAlone() {
        let body = #"{"id": 9827010000203, "lines": [{"id": 9827010000203, "item_id": 9827010000203, "note": 9827010000203}], "line_ids": [9827010000203], "customerId": 9827010000203}"#
        let (scrubbed, masked) = CardMask.scrub(Data(body.utf8))
        #expect(masked == 1)
        #expect(String(decoding: scrubbed, as: UTF8.self)
            == #"{"id": 9827010000203, "lines": [{"id": 9827010000203, "item_id": 9827010000203, "note": "982701***0203"}], "line_ids": [9827010000203], "customerId": 9827010000203}"#)
    }

    /// Which keys are identifier keys, spelled every way the rule names and a few that it does not.
    @Test(arguments: [("id", true), ("ids", true), ("item_id", true), ("line_ids", true), ("customerId", true), ("lineIds", true),
                      ("_id", true), ("Id", true), ("ID", false), ("idx", false), ("i", false), ("d", false), ("", false),
                      ("paid", false), ("valid", false), ("_ID", false), ("ids_", false), ("note", false), ("amount", false)])
    func identifierKeys(_ key: String, _ isIdentifier: Bool) {
        let (scrubbed, masked) = CardMask.scrub(Data(#"{"\#(key)": 9827010000203}"#.utf8))
        #expect(masked == (isIdentifier ? 0 : 1), "\(key)")
        #expect(String(decoding: scrubbed, as: UTF8.self).contains("9827010000203") == isIdentifier, "\(key)")
    }

    @Test(arguments: [
        "TRN_C59EC7DF4245F4111111111111111", "TRN_AB4111111111111111CD", "TRN_4242424242424242", "BAT_20261127_01",
        "order 12345678901234567890", "order 41111111111111111111", "4111111111111111111111111", "S01-20261127-00001",
        "2026-11-27T15:00:00Z", "amount 12.50 on 2026/11/27 at 14:02", "call +1 (212) 555-0199", "card4111111111111111exp",
    ])
    func identifiersAndOtherNumbersAreLeftAlone(_ text: String) {
        #expect(CardMask.mask(text) == text)
        #expect(CardMask.scrub(Data("{\"v\":\"\(text)\"}".utf8)).masked == 0)
    }

    // MARK: properties

    @Test func everyPANInRandomTextIsMasked() {
        var rng = SeededRandom(seed: 17)
        var cases = 0
        for length in 13...19 {
            for prefix in PAN.prefixes {
                for shape in PAN.Shape.allCases {
                    let pans = [PAN.make(prefix: prefix, length: length, rng: &rng), PAN.make(prefix: rng.pick(PAN.prefixes), length: length, rng: &rng)]
                    let text = PAN.words(&rng) + " " + shape.render(pans, rng: &rng) + PAN.pick([" ", ". ", ", ", ") ", "\n"], &rng) + PAN.words(&rng)
                    let output = CardMask.mask(text)
                    for pan in shape.embedded(pans) {
                        #expect(PAN.survivor(of: pan, in: output) == nil, "\(shape) \(pan): \(text) → \(output)")
                    }
                    cases += 1
                }
            }
        }
        #expect(cases == 7 * PAN.prefixes.count * PAN.Shape.allCases.count)
    }

    @Test func everyPANInRandomJSONIsMaskedAndTheJSONStillParses() throws {
        var rng = SeededRandom(seed: 1717)
        for length in 13...19 {
            for prefix in PAN.prefixes {
                for shape in PAN.Shape.allCases {
                    for form in PAN.JSONForm.allCases {
                        let pans = [PAN.make(prefix: prefix, length: length, rng: &rng), PAN.make(prefix: rng.pick(PAN.prefixes), length: length, rng: &rng)]
                        let value = form.render(shape.render(pans, rng: &rng), pan: pans[0], rng: &rng)
                        let body = PAN.jsonDocument(with: value, rng: &rng)
                        #expect((try? JSONSerialization.jsonObject(with: Data(body.utf8))) != nil, "generated JSON is valid: \(body)")
                        let (scrubbed, _) = CardMask.scrub(Data(body.utf8))
                        let parsed = try JSONSerialization.jsonObject(with: scrubbed)
                        let output = String(decoding: scrubbed, as: UTF8.self)
                        // Leaf by leaf: joined, a dictionary's values (in an order that changes from process to process) could
                        // put digits of two fields side by side.
                        let decoded = PAN.leaves(parsed)
                        let checked = form == .number ? [pans[0]] : shape.embedded(pans)
                        for pan in checked {
                            #expect(PAN.survivor(of: pan, in: output) == nil, "\(form) \(shape) \(pan): \(body) → \(output)")
                            #expect(decoded.allSatisfy { PAN.survivor(of: pan, in: $0) == nil }, "\(form) \(shape) \(pan) decoded: \(decoded)")
                        }
                    }
                }
            }
        }
    }

    @Test func idsLongNumbersAndNonLuhnNumbersAreUnchanged() {
        var rng = SeededRandom(seed: 2026)
        for _ in 0..<2000 {
            let hex = String((0..<24).map { _ in Array("0123456789ABCDEF")[Int(rng.int(0...15))] })
            let order = rng.digits(Int(rng.int(20...30)))
            let wrong = PAN.breakLuhn(PAN.make(prefix: rng.pick(PAN.prefixes), length: Int(rng.int(13...19)), rng: &rng))
            let text = [PAN.words(&rng), "TRN_\(hex)", PAN.words(&rng), "order \(order)", "BAT_\(rng.digits(8))_\(rng.digits(2))",
                        "ref \(wrong).", PAN.words(&rng)].joined(separator: " ")
            #expect(CardMask.mask(text) == text)
            let body = #"{"id":"TRN_\#(hex)","order":\#(order),"order_text":"\#(order)","ref":\#(wrong),"note":"\#(text)"}"#
            let (scrubbed, masked) = CardMask.scrub(Data(body.utf8))
            #expect(masked == 0 && scrubbed == Data(body.utf8), "\(body)")
        }
    }
}

/// Random card numbers and the shapes they are written in.
enum PAN {
    /// Visa, Mastercard (51–55, 2221–2720), Amex, Discover, Diners, JCB, UnionPay, Maestro, UATP.
    static let prefixes = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "644", "65", "300", "36", "38", "3528", "3589", "62", "50", "67", "1"]

    static func make(prefix: String, length: Int, rng: inout SeededRandom) -> String {
        let body = prefix + rng.digits(length - prefix.count - 1)
        return body + String((0...9).first { valid(body + String($0)) }!)
    }

    /// Luhn, written apart from the code under test.
    static func valid(_ digits: String) -> Bool {
        let values = digits.compactMap(\.wholeNumberValue)
        let sum = values.reversed().enumerated().map { index, digit in index.isMultiple(of: 2) ? digit : (digit * 2) % 9 + (digit == 9 ? 9 : 0) }
            .reduce(0, +)
        return sum.isMultiple(of: 10)
    }

    static func breakLuhn(_ pan: String) -> String {
        let last = pan.last!.wholeNumberValue!
        return String(pan.dropLast()) + String((last + 1) % 10)
    }

    /// Groups as cards are printed: 4-6-5 (15), 4-6-4 (14), else fours and the rest.
    static func grouped(_ pan: String, _ separator: String) -> String {
        let sizes: [Int] = switch pan.count {
        case 15: [4, 6, 5]
        case 14: [4, 6, 4]
        default: Array(repeating: 4, count: pan.count / 4) + (pan.count % 4 == 0 ? [] : [pan.count % 4])
        }
        var rest = Substring(pan)
        return sizes.map { size in
            defer { rest = rest.dropFirst(size) }
            return String(rest.prefix(size))
        }.joined(separator: separator)
    }

    enum Shape: CaseIterable {
        case plain, spaces, dashes, dots, slashes, withCVV, withExpiry, twoInARow, twoGroupedInARow, afterLetters, track1, track2

        func render(_ pans: [String], rng: inout SeededRandom) -> String {
            let pan = pans[0]
            switch self {
            case .plain: return pan
            case .spaces: return grouped(pan, " ")
            case .dashes: return grouped(pan, "-")
            case .dots: return grouped(pan, ".")
            case .slashes: return grouped(pan, "/")
            case .withCVV: return pan + " " + rng.digits(rng.chance(0.5) ? 3 : 4)
            case .withExpiry: return pan + " " + two(rng.int(1...12)) + "/" + two(rng.int(24...35))
            case .twoInARow: return pans[0] + " " + pans[1]
            case .twoGroupedInARow: return grouped(pans[0], " ") + " " + grouped(pans[1], " ")
            case .afterLetters: return PAN.pick(["cc", "x", "CARD", "pan", "B"], &rng) + pan
            case .track1: return "%B\(pan)^DOE/JOHN^\(rng.int(24...35))\(two(rng.int(1...12)))101\(rng.digits(12))?"
            case .track2: return ";\(pan)=\(rng.int(24...35))\(two(rng.int(1...12)))101\(rng.digits(10))?"
            }
        }

        private func two(_ number: Int64) -> String { number < 10 ? "0\(number)" : "\(number)" }

        func embedded(_ pans: [String]) -> [String] {
            switch self {
            case .twoInARow, .twoGroupedInARow: pans
            default: [pans[0]]
            }
        }
    }

    /// How a shape sits in a JSON document.
    enum JSONForm: CaseIterable {
        case string, escapedDigits, escapedSlashes, number

        func render(_ text: String, pan: String, rng: inout SeededRandom) -> String {
            switch self {
            case .string: return quoted(text)
            case .escapedDigits:
                // Some or all digits as `\u003N`, as a JSON encoder may write them.
                let all = rng.chance(0.5)
                var escaped = ""
                for character in quoted(text) {
                    if let digit = character.wholeNumberValue, character.isASCII, all || rng.chance(0.5) {
                        escaped += "\\u003\(digit)"
                    } else {
                        escaped.append(character)
                    }
                }
                return escaped
            case .escapedSlashes: return quoted(text).replacingOccurrences(of: "/", with: "\\/")
            case .number: return pan
            }
        }

        private func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
    }

    /// A Heartland-like record with `value` in a random free-text field.
    static func jsonDocument(with value: String, rng: inout SeededRandom) -> String {
        let fields = ["\"id\":\"TRN_\(rng.alphanumeric(24))\"", "\"amount\":\"12.50\"", "\"location_id\":\(rng.int(1...99))",
                      "\"completed_at\":\"2026-11-27T15:00:00Z\"", "\"order\":12345678901234567890"]
        let slot = pick(["note", "description", "first_name", "address1", "message", "detailed_error_description"], &rng)
        let nested = rng.chance(0.5)
        let field = nested ? "\"lines\":[{\"\(slot)\":\(value),\"qty\":1}]" : "\"\(slot)\":\(value)"
        var all = fields
        all.insert(field, at: Int(rng.int(0...Int64(fields.count))))
        return "{" + all.joined(separator: pick([",", ", ", ",\n "], &rng)) + "}"
    }

    static func words(_ rng: inout SeededRandom) -> String {
        let vocabulary = ["paid", "with", "card", "refund", "note:", "$12.50", "2026-11-27", "order", "#", "thanks!", "(", ")", "ticket",
                          "S01-7", "at", "14:02", "Mrs", "O'Neil", "café", "🙂", "ref", "qty", "3"]
        return (0..<Int(rng.int(0...6))).map { _ in pick(vocabulary, &rng) }.joined(separator: " ")
    }

    static func pick<T>(_ items: [T], _ rng: inout SeededRandom) -> T { rng.pick(items) }

    /// Seven consecutive digits of `pan` still in `text` (JSON digit escapes decoded, separators dropped), if any.
    static func survivor(of pan: String, in text: String) -> String? {
        var normalized = text
        for digit in 0...9 { normalized = normalized.replacingOccurrences(of: "\\u003\(digit)", with: String(digit)) }
        normalized.removeAll { " -./\\\n".contains($0) }
        let digits = Array(pan)
        for start in 0...(digits.count - 7) where normalized.contains(String(digits[start..<start + 7])) {
            return String(digits[start..<start + 7])
        }
        return nil
    }

    /// Every string and number of a parsed JSON value, as text.
    static func leaves(_ value: Any) -> [String] {
        switch value {
        case let object as [String: Any]: object.values.flatMap(leaves)
        case let array as [Any]: array.flatMap(leaves)
        case let string as String: [string]
        default: ["\(value)"]
        }
    }
}
