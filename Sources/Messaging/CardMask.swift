/// Masks anything that looks like a card number (a Luhn-valid run of 13–19 digits, spaces or dashes
/// allowed between digits) before it reaches a log line, a header or an alert: keeps first six and last four.
/// A run with a letter right before and right after it is part of an identifier and left alone.
public enum CardMask {
    public static func mask(_ text: String) -> String {
        let chars = Array(text)
        var result = ""
        var i = 0
        while i < chars.count {
            guard chars[i].isASCII, chars[i].isNumber else { result.append(chars[i]); i += 1; continue }
            // Collect a run of digits with single separators.
            var j = i
            var digitIndices: [Int] = []
            while j < chars.count {
                if chars[j].isASCII && chars[j].isNumber { digitIndices.append(j); j += 1; continue }
                if (chars[j] == " " || chars[j] == "-"), j + 1 < chars.count, chars[j + 1].isASCII, chars[j + 1].isNumber, !digitIndices.isEmpty {
                    j += 1; continue
                }
                break
            }
            let digits = digitIndices.map { Int(String(chars[$0]))! }
            // Letters on both sides: the digits are inside an identifier (`TRN_C59EC7DF…4245F`), not a card number.
            let insideIdentifier = i > 0 && chars[i - 1].isASCII && chars[i - 1].isLetter && j < chars.count && chars[j].isASCII && chars[j].isLetter
            if (13...19).contains(digits.count) && luhn(digits) && !insideIdentifier {
                var run = Array(chars[i..<j])
                for (n, index) in digitIndices.enumerated() where n >= 6 && n < digits.count - 4 { run[index - i] = "*" }
                result.append(contentsOf: run)
            } else {
                result.append(contentsOf: chars[i..<j])
            }
            i = j
        }
        return result
    }

    static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }
}
