import Foundation
import SimulatorKit
import StableHash
import Testing

/// The simulator's JSON writing, made cheaper for a day of 10,000 tickets (issue 21), writes what it wrote before.
struct SimulatorJSONTests {
    @Test func dollarsAreTheDecimalThatDividingByAHundredGave() {
        var values = Array(Int64(-20_000)...20_000)
        values += [100_000_000, -123_456_789_012, 999_999_999_999, Int64.max / 1000, Int64.min / 1000]
        for cents in values {
            let divided = Decimal(cents) / 100
            #expect(Money.decimal(cents) == divided, "\(cents)")
            #expect("\(Money.decimal(cents))" == "\(divided)", "\(cents)")
        }
    }

    @Test func numbersAreWrittenAsDecimalDescribesThem() {
        var numbers: [Decimal] = [0, 1, -1, 10, 100, Decimal(UInt64.max), -Decimal(UInt64.max), Decimal(UInt64.max) + 1,
                                  Decimal(string: "1e30")!, Decimal(string: "-0.000000000000000000001")!, .nan]
        numbers += (-20_000...20_000).map { Money.decimal(Int64($0)) }
        var generator = SeededRandom(seed: 22)  // the same numbers on every run: a failure reproduces
        for _ in 0..<5_000 {
            let significand = Decimal(UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0...63, using: &generator))
            let exponent = Int.random(in: -25...25, using: &generator)
            let value = Decimal(sign: Bool.random(using: &generator) ? .minus : .plus, exponent: exponent, significand: significand)
            numbers.append(value)
            numbers.append(value / 7)  // a significand wider than 64 bits
        }
        for number in numbers {
            #expect(JSONValue.number(number).text == "\(number)", "\(number)")
        }
    }

    @Test func stringsAreEscapedOnlyWhereJSONNeedsIt() throws {
        let value: JSONValue = ["plain": "Visa ending 1234", "quoted": "say \"hi\"", "slash": "a\\b", "control": "tab\there\nnext\u{1}",
                                "unicode": "café ☕️"]
        let text = value.text
        #expect(text == #"{"control":"tab\there\nnext\u0001","plain":"Visa ending 1234","quoted":"say \"hi\"","slash":"a\\b","unicode":"café ☕️"}"#)
        #expect(try JSONValue.parse(Data(text.utf8)) == value)
    }
}
