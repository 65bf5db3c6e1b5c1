import Logging

/// Text from outside (an HTTP header, a form field, a field of a received body) on its way into a
/// log: control characters are written as escapes (`\n`, `\r`, `\t`, `\u{1B}`, …), so a value cannot
/// start a line of its own that reads like another entry, nor drive a terminal; and it is cut to
/// `limit` characters, so one value cannot flood the log.
public enum LogSafe {
    public static func escape(_ text: String, limit: Int = 256) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit { return out + "…(\(text.unicodeScalars.count - count) more)" }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                // C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
                if scalar.properties.generalCategory == .control || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

extension Logger.MetadataValue {
    /// A value from outside, escaped (`LogSafe.escape`).
    public static func untrusted(_ text: String) -> Self { .string(LogSafe.escape(text)) }
}
