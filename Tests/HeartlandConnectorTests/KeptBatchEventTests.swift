import Foundation
import HeartlandIngest
import Testing

/// A batch's event is kept once, its bytes written into the row where they are (SQLite's blob I/O), and read back as written.
@Suite struct KeptBatchEventTests {
    static func inbox() throws -> IngestInbox {
        try IngestInbox(path: FileManager.default.temporaryDirectory.appendingPathComponent("inbox-\(UUID().uuidString).sqlite").path)
    }

    @Test func theBytesKeptAreTheBytesReadAndTheFirstKeptStays() async throws {
        let inbox = try Self.inbox()
        // 3 MB, every byte value, so that a short or shifted write shows.
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        try await inbox.keepBatchEvent("BAT_1", body: body)
        #expect(try await inbox.batchEvent("BAT_1") == Data(body))
        try await inbox.keepBatchEvent("BAT_1", body: Array("another".utf8))
        #expect(try await inbox.batchEvent("BAT_1") == Data(body), "the first kept stays")
        try await inbox.keepBatchEvent("BAT_2", body: Data(#"{"schema":"x"}"#.utf8))
        #expect(try await inbox.batchEvent("BAT_2") == Data(#"{"schema":"x"}"#.utf8))
        try await inbox.keepBatchEvent("BAT_3", body: [UInt8]())
        #expect(try await inbox.batchEvent("BAT_3") == Data())
        #expect(try await inbox.batchEvent("BAT_4") == nil)
    }
}
