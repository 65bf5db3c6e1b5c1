import Foundation
import SimulatorKit
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

    @Test func stringsAreEscapedOnlyWhereJSONNeedsIt() throws {
        let value: JSONValue = ["plain": "Visa ending 1234", "quoted": "say \"hi\"", "slash": "a\\b", "control": "tab\there\nnext\u{1}",
                                "unicode": "café ☕️"]
        let text = value.text
        #expect(text == #"{"control":"tab\there\nnext\u0001","plain":"Visa ending 1234","quoted":"say \"hi\"","slash":"a\\b","unicode":"café ☕️"}"#)
        #expect(try JSONValue.parse(Data(text.utf8)) == value)
    }
}
