import StableHash

/// The external reference a journal is stored under in Sage, kept within the length Sage takes.
///
/// Neither sage-pro-sim nor the connector enforces a length, but Sage 300 keeps the reference in
/// 60-character fields (the header's document number and each line's reference), and a reference
/// cut by Sage would no longer be found by the loader's look-up before posting: the journal could
/// post twice. A reference that would be longer is shortened here, the same way every time: its
/// first characters (store and date stay readable) and a hash of the whole.
public enum SageReference {
    public static let maximumLength = 60

    /// `text` itself when it fits; else its first 49 characters, `-` and 10 hex digits of its FNV-1a hash.
    public static func bounded(_ text: String) -> String {
        guard text.count > maximumLength else { return text }
        let suffix = String(FNV1a.hex(text).suffix(10))
        return String(text.prefix(maximumLength - suffix.count - 1)) + "-" + suffix
    }
}
