import Foundation
import Testing

@testable import HeartlandConnector
import Messaging

/// No full card number leaves the connector.
@Suite struct CardDataGuardTests {
    @Test func luhnValidNumbersAreMasked() {
        #expect(CardMask.mask("card 4242424242424242 used") == "card 424242******4242 used")
        #expect(CardMask.mask("4111 1111 1111 1111") == "4111 11** **** 1111")
        #expect(CardMask.mask("amex 3782-822463-10005.") == "amex 3782-82****-*0005.")
        #expect(CardMask.mask("4000056655665556") == "400005******5556")
    }

    @Test func otherNumbersAreLeftAlone() {
        for text in [
            "4242424242424241",  // fails Luhn
            "S01-20261127-00001", "BAT_20261127_01", "GC1000000000001", "TRN_4242424242424242", "2026-11-27T15:00:00Z",
            "424242XXXXXX4242", "123456789012",  // 12 digits
            "42424242424242424242",  // 20 digits
        ] {
            #expect(CardMask.mask(text) == text, "\(text)")
        }
    }

    @Test func jsonBodiesStayValidAndLoseThePAN() throws {
        let body = Data("""
            {"id":"TRN_1","amount":"100","description":"paid with 4242424242424242","big":4242424242424242,
             "payment_method":{"card":{"brand":"VISA","masked_number_first6last4":"4242424242424242"}}}
            """.utf8)
        let (scrubbed, masked) = CardMask.scrub(body)
        #expect(masked == 3, "two strings and the number `big`")
        let text = String(decoding: scrubbed, as: UTF8.self)
        #expect(!text.contains("\"4242424242424242\""))
        #expect(!text.contains("paid with 4242424242424242"))
        #expect(text.contains(#""big":"424242******4242""#), "a number that is a card number becomes a masked string")
        let transaction = try JSONDecoder().decode(CardTransaction.self, from: scrubbed)
        #expect(transaction.description == "paid with 424242******4242")
        #expect(transaction.card?.first6 == "424242" && transaction.card?.last4 == "4242")
        #expect(CardDataGuard.isPermitted(try #require(transaction.card)))
    }

    @Test func anUnmaskedNumberDecodesToFirstSixAndLastFourOnly() throws {
        // Even without the scrub, the card summary keeps only first six and last four.
        let card = try JSONDecoder().decode(CardSummary.self, from: Data(#"{"brand":"VISA","masked_number_first6last4":"4242424242424242"}"#.utf8))
        #expect(card.first6 == "424242" && card.last4 == "4242")
        #expect(!CardDataGuard.isPermitted(CardSummary(brand: .visa, first6: "424242", last4: "4242", token: "4242424242424242")))
    }
}
