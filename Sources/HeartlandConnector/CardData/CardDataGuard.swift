import Foundation
import Messaging

/// Keeps primary account numbers out of the pipeline (ARCHITECTURE.md: only brand, first six,
/// last four and a token may enter). Every response body passes `CardMask.scrub` before it is
/// decoded, so a full card number in any field (a free-text description, a misconfigured gateway
/// echoing the PAN) is masked to `424242******4242` before a record exists; `CardSummary` keeps
/// only first six and last four of `masked_number_first6last4`.
public enum CardDataGuard {
    /// First six and last four of a masked (or, defensively, unmasked) card number.
    public static func firstSixLastFour(_ masked: String) -> (first6: String?, last4: String?) {
        let characters = Array(masked.filter { !$0.isWhitespace && $0 != "-" })
        guard characters.count >= 10 else { return (nil, nil) }
        let first = String(characters.prefix(6)), last = String(characters.suffix(4))
        return (first.allSatisfy(\.isNumber) ? first : nil, last.allSatisfy(\.isNumber) ? last : nil)
    }

    /// Whether a card summary holds only permitted data: brand, 6-digit first six, 4-digit last four, a token.
    public static func isPermitted(_ card: CardSummary) -> Bool {
        func digits(_ text: String?, _ count: Int) -> Bool { text.map { $0.count == count && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) } ?? true }
        let texts = [card.token, card.authCode, card.brandReference, card.brand.rawValue].compactMap { $0 }
        return digits(card.first6, 6) && digits(card.last4, 4) && !texts.contains(where: CardMask.containsCardNumber)
    }
}
