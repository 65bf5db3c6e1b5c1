import Foundation
import Testing
@testable import Accounting
import StableHash

@Suite struct MoneyTests {
    @Test(arguments: [
        ("12.50", 1250), ("12.5", 1250), ("12", 1200), ("$1,234.56", 123456), ("-3.00", -300), ("0.01", 1),
        (" 7.10 ", 710), ("(3.00)", -300), ("-$4.05", -405), ("$-4.05", -405), (".99", 99), ("1,000,000", 100_000_000),
        ("92233720368547758.07", Int64.max), ("+2.00", 200),
    ] as [(String, Int64)])
    func parsesAmountStrings(text: String, cents: Int64) throws {
        #expect(try Money.parse(text, currency: .usd) == usd(cents))
    }

    @Test(arguments: ["", "abc", "12.345", "1.2.3", "1,23.00", "12,34", "--1", "12a", "$", ".", "1 000", "(-3)", "0.1e3"])
    func rejectsMalformedAmounts(text: String) {
        #expect(throws: MoneyError.self) { try Money.parse(text, currency: .usd) }
    }

    /// The plain spellings are read from their bytes (issue 21); the reading must be the general one's, amount for amount,
    /// and leave every other spelling to it.
    @Test func plainSpellingsReadFromTheirBytesAsTheGeneralReadingDoes() throws {
        var texts = ["0", "-0", "5.", ".5", "-.5", "0.00", "000123.40", "999999999999999.99", "-999999999999999.99", "1234567890123456",
                     "12.345", "-", ".", "", "1e2", "+1", " 1", "1 ", "1,000", "--1", "1.2.3", "١٢", "12a", "0x10"]
        var generator = SeededRandom(seed: 21)  // the same amounts on every run: a failure reproduces
        for _ in 0..<2_000 {
            let whole = String(Int64.random(in: 0...999_999_999_999, using: &generator))
            let cents = Int.random(in: 0...99, using: &generator)
            let fraction = generator.pick(["", ".", "." + String(cents % 10), cents < 10 ? ".0\(cents)" : ".\(cents)"])
            texts.append((Bool.random(using: &generator) ? "-" : "") + whole + fraction)
        }
        for text in texts {
            let general = Result { () throws(MoneyError) in try Money.parseAnySpelling(text, currency: .usd) }
            if let cents = Money.plainCents(text) {
                #expect(general == .success(usd(cents)), "\(text)")
            }
            #expect(Result { () throws(MoneyError) in try Money.parse(text, currency: .usd) } == general, "\(text)")
        }
        #expect(Money.plainCents("2.49") == 249 && Money.plainCents("-7") == -700 && Money.plainCents("0.5") == 50)
        #expect(Money.plainCents("1234567890123456") == nil && Money.plainCents("12.345") == nil && Money.plainCents(" 1") == nil)
    }

    @Test func rejectionSaysWhy() {
        #expect(throws: MoneyError.invalidAmount("12.345", reason: "it has fractions of a cent (3 decimals)")) {
            try Money.parse("12.345", currency: .usd)
        }
        #expect(MoneyError.invalidAmount("x", reason: "it is empty").description == "amount \"x\" is not a valid amount: it is empty")
    }

    @Test func amountBeyondInt64IsOverflowNotWrap() {
        #expect(throws: MoneyError.overflow("\"92233720368547758.08\"")) { try Money.parse("92233720368547758.08", currency: .usd) }
        #expect(throws: MoneyError.self) { try Money.parseMinorUnits("9223372036854775808", currency: .usd) }
    }

    @Test func minorUnitStrings() throws {
        #expect(try Money.parseMinorUnits("1234", currency: .usd) == usd(1234))
        #expect(try Money.parseMinorUnits("-5", currency: .usd) == usd(-5))
        #expect(throws: MoneyError.self) { try Money.parseMinorUnits("12.34", currency: .usd) }
    }

    @Test func checkedArithmetic() throws {
        #expect(try usd(1).adding(usd(2)) == usd(3))
        #expect(try usd(5).subtracting(usd(7)) == usd(-2))
        #expect(throws: MoneyError.self) { try usd(.max).adding(usd(1)) }
        #expect(throws: MoneyError.self) { try usd(.min).subtracting(usd(1)) }
        #expect(throws: MoneyError.self) { try usd(.min).negated() }
        let cad = try CurrencyCode("cad")
        #expect(throws: MoneyError.currencyMismatch(.usd, cad)) { try usd(1).adding(Money(minorUnits: 1, currency: cad)) }
    }

    @Test func currencyCodes() throws {
        #expect(throws: MoneyError.invalidCurrency("US")) { try CurrencyCode("US") }
        #expect(throws: MoneyError.invalidCurrency("U1D")) { try CurrencyCode("U1D") }
        // Held as three packed letters: read back as written, upper-cased, and equal only to the same letters.
        for code in ["USD", "cad", "Eur", "XAU", "ZZZ", "AAA"] {
            let currency = try CurrencyCode(code)
            #expect(currency.code == code.uppercased() && currency.description == code.uppercased())
            let json = try JSONEncoder().encode([currency])
            #expect(String(decoding: json, as: UTF8.self) == "[\"\(code.uppercased())\"]")
            #expect(try JSONDecoder().decode([CurrencyCode].self, from: json) == [currency])
        }
        #expect(try CurrencyCode("usd") == .usd && CurrencyCode("USD").hashValue == CurrencyCode.usd.hashValue)
        #expect(try CurrencyCode("USD") != CurrencyCode("DSU") && CurrencyCode("CAD") != CurrencyCode("CAE"))
        #expect(try [CurrencyCode("EUR"), CurrencyCode("CAD"), CurrencyCode("USD")].sorted { $0.code < $1.code }.map(\.code) == ["CAD", "EUR", "USD"])
    }

    @Test func decimalRendering() {
        #expect(Money.decimalString(0) == "0.00")
        #expect(Money.decimalString(5) == "0.05")
        #expect(Money.decimalString(-105) == "-1.05")
        #expect(Money.decimalString(.min) == "-92233720368547758.08")
        #expect(usd(123456).description == "1234.56 USD")
    }

    @Test func businessDates() throws {
        let day = try BusinessDate(parsing: "2026-11-27")
        #expect(day.sageFormat == "11/27/2026")
        #expect(day.compact == "20261127")
        #expect(try BusinessDate(parsing: "11/27/2026") == day)
        #expect(throws: BusinessDateError.self) { try BusinessDate(parsing: "2026-02-30") }
        #expect(throws: BusinessDateError.self) { try BusinessDate(parsing: "27.11.2026") }
        #expect(throws: BusinessDateError.unknownTimeZone("Mars/Olympus")) { try StoreTimeZone("Mars/Olympus") }
        // 23:55 in Los Angeles on the 27th is 07:55 UTC on the 28th.
        #expect(BusinessDate(of: Fixtures.instant("2026-11-28T07:55:00Z"), in: Fixtures.losAngeles) == day)
        #expect(BusinessDate(of: Fixtures.instant("2026-11-28T07:55:00Z"), in: try StoreTimeZone("UTC")).day == 28)
    }
}
