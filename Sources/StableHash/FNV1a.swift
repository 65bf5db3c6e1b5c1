/// 64-bit FNV-1a: a hash that is the same on every run and every host (Swift's `Hasher` is seeded per
/// process), for ids, file names and seeds derived from text.
public struct FNV1a: Sendable, Equatable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    public private(set) var value: UInt64 = FNV1a.offsetBasis

    public init() {}

    public mutating func add(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* Self.prime
    }

    public mutating func add(_ text: String) {
        for byte in text.utf8 { add(byte) }
    }

    /// The hash of `text`'s UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.add(text)
        return hasher.value
    }

    /// The hash of `text` as 16 lower-case hex digits.
    public static func hex(_ text: String) -> String {
        let digits = String(hash(text), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
