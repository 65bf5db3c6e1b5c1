import StableHash
import Testing

/// The seeded generator's sequences are committed in store days, fixtures and training data: these values were taken
/// from the two generators it replaces (the simulator's `SeededRandom` and the fraud scorer's `SeededGenerator`, both
/// SplitMix64 seeded by FNV-1a) before they became one, and must never change.
@Suite struct SeededRandomTests {
    @Test func aNumericSeedGivesTheCommittedSequence() {
        var rng = SeededRandom(seed: 42)
        #expect(rng.next() == 13_679_457_532_755_275_413)
        #expect(rng.next() == 2_949_826_092_126_892_291)
        #expect(rng.int(1...1000) == 279)
        #expect(rng.pick(["a", "b", "c", "d"]) == "b")
        #expect(rng.digits(6) == "082836")
        #expect(rng.alphanumeric(5) == "GSTTY")
        #expect(rng.chance(0.5) == false)
        #expect(rng.weighted([("x", 1), ("y", 3)]) == "x")
    }

    @Test func theFraudScorersDrawsAreUnchanged() {
        var rng = SeededRandom(seed: 42)
        _ = (rng.next(), rng.next())
        let drawn: Int = rng.int(1...1000)
        #expect(drawn == 279)
        #expect(rng.pick(["a", "b", "c", "d"]) == "b")
        #expect(rng.digits(6) == "082836")
        #expect(rng.chance(0.5) == false)
    }

    @Test func seedsFromPartsAreUnchanged() {
        var store = SeededRandom(7, "STORE-1", "2026-12-01", "sales")
        #expect(store.next() == 5_399_827_650_543_326_962)
        #expect(store.next() == 11_768_305_959_436_796_164)
        let cents: Int64 = store.int(-50...50)
        #expect(cents == -25)

        var fraud = SeededRandom(7, "STORE-1", "2026-12-01", "card_testing")
        #expect(fraud.next() == 3_112_339_989_390_443_581)
        #expect(fraud.next() == 6_563_033_376_298_920_863)
        let second: Int = fraud.int(30...300)
        #expect(second == 269)
    }

    @Test func fnv1aMatchesTheReferenceVectorsAndTheImportFileNames() {
        #expect(FNV1a.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hex("GL-STORE-1-2026-12-01") == "dc9136aa6636d6bd")
    }
}
