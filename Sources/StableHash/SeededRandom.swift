/// SplitMix64: a small, fast generator whose sequence depends only on its seed, so the same
/// `--seed` gives the same store day, training split and generated fraud on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A seed from several parts (FNV-1a over their text joined by `|`).
    public init(_ parts: CustomStringConvertible...) {
        state = FNV1a.hash(parts.map(\.description).joined(separator: "|"))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func chance(_ share: Double) -> Bool { Double.random(in: 0..<1, using: &self) < share }

    public mutating func int<Integer: FixedWidthInteger>(_ range: ClosedRange<Integer>) -> Integer { Integer.random(in: range, using: &self) }

    public mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    /// An element, or nil from an empty array (without drawing).
    public mutating func pickIfAny<T>(_ items: [T]) -> T? { items.isEmpty ? nil : pick(items) }

    /// Picks by integer weights.
    public mutating func weighted<T>(_ choices: [(T, Int)]) -> T {
        var roll = Int.random(in: 0..<choices.reduce(0) { $0 + $1.1 }, using: &self)
        for (value, weight) in choices {
            if roll < weight { return value }
            roll -= weight
        }
        return choices[choices.count - 1].0
    }

    public mutating func digits(_ count: Int) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &self))) })
    }

    public mutating func alphanumeric(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        return String((0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &self)] })
    }
}
