import Foundation
import HeartlandConnector
import HeartlandIngest
import Logging
import SimulatorKit
import Synchronization
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The webhook receiver's guards before anything is recorded: bodies over the limit (413, before they
/// are read whole), deliveries signed too long ago (401), and header values that cannot write log lines.
@Suite struct WebhookReceiverGuardTests {
    /// Log entries kept for the test to read.
    final class RecordingLogHandler: LogHandler, Sendable {
        struct Entry: Sendable {
            var message: String
            var metadata: [String: String]
        }

        let entries = Mutex<[Entry]>([])
        var metadata: Logger.Metadata {
            get { [:] }
            set {}
        }
        var logLevel: Logger.Level {
            get { .trace }
            set {}
        }
        subscript(metadataKey _: String) -> Logger.Metadata.Value? {
            get { nil }
            set {}
        }

        var metadataProvider: Logger.MetadataProvider? {
            get { nil }
            set {}
        }

        func log(event: LogEvent) {
            let values = (event.metadata ?? [:]).mapValues { "\($0)" }
            entries.withLock { $0.append(Entry(message: event.message.description, metadata: values)) }
        }
    }

    static let body = Data(#"{"id":"EVT_1","event":"batch.closed","data":{"id":"BAT_X","status":"CLOSED"}}"#.utf8)

    func receiver(now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = quietLogger) throws -> (WebhookReceiver, IngestInbox) {
        let inbox = try IngestInbox(path: FileManager.default.temporaryDirectory.appendingPathComponent("inbox-\(UUID().uuidString).sqlite").path)
        let verifier = WebhookVerifier(appKey: "app-key", webhookSecret: "hook-secret")
        return (WebhookReceiver(verifier: verifier, inbox: inbox, now: now, logger: logger), inbox)
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        let (receiver, inbox) = try receiver()
        try await listening(receiver) { address in
            let url = try #require(URL(string: address))
            #expect(WebhookReceiver.defaultMaxBodyBytes == 1 << 20, "the documented limit (docs/SECURITY.md)")
            let big = Data(repeating: UInt8(ascii: " "), count: 2 << 20)
            var declared = URLRequest(url: url)
            declared.httpMethod = "POST"
            declared.httpBody = big  // with Content-Length: refused on the header
            let (_, first) = try await URLSession.shared.data(for: declared)
            #expect((first as? HTTPURLResponse)?.statusCode == 413)
            var streamed = URLRequest(url: url)
            streamed.httpMethod = "POST"
            streamed.httpBodyStream = InputStream(data: big)  // chunked, no length: refused once the bytes read pass the limit
            let (_, second) = try await URLSession.shared.data(for: streamed)
            #expect((second as? HTTPURLResponse)?.statusCode == 413)
            // Just under the limit is read (and then refused for its missing signature, not its size).
            var small = URLRequest(url: url)
            small.httpMethod = "POST"
            small.httpBody = Data(repeating: UInt8(ascii: " "), count: WebhookReceiver.defaultMaxBodyBytes)
            let (_, third) = try await URLSession.shared.data(for: small)
            #expect((third as? HTTPURLResponse)?.statusCode == 401)
        }
        #expect(try await inbox.entries().isEmpty)
    }

    @Test func aDeliverySignedMoreThanFiveMinutesAgoIsRefused() async throws {
        let signedAt = Date(timeIntervalSince1970: 1_800_000_000)
        final class Now: Sendable {
            let date: Mutex<Date>
            init(_ date: Date) { self.date = Mutex(date) }
        }
        let clock = Now(signedAt.addingTimeInterval(301))
        let (receiver, inbox) = try receiver(now: { clock.date.withLock { $0 } })
        let signature = WebhookSignature.heartlandSignature(body: Self.body, secret: "hook-secret", at: signedAt)
        let late = await receiver.receive(body: Self.body) { $0.lowercased() == "x-heartland-signature" ? signature : nil }
        #expect(late.status == .unauthorized)
        #expect(try await inbox.entries().isEmpty, "a late delivery is not recorded")
        clock.date.withLock { $0 = signedAt.addingTimeInterval(30) }
        let fresh = await receiver.receive(body: Self.body) { $0.lowercased() == "x-heartland-signature" ? signature : nil }
        #expect(fresh.status == .ok)
        #expect(try await inbox.entries().map(\.key) == ["heartland:batch:BAT_X"])
    }

    @Test func headerValuesCannotWriteLogLines() async throws {
        let handler = RecordingLogHandler()
        let (receiver, _) = try receiver(logger: Logger(label: "webhook-test") { _ in handler })
        let forged = "DLV_1\r\n2026-12-02T10:00:00+0000 info heartland-ingest : webhook recorded\u{1B}[2J"
        let response = await receiver.receive(body: Self.body) { name in  // the receiver looks names up in any case
            switch name.lowercased() {
            case "x-heartland-signature": "t=1,sha256=" + String(repeating: "ab", count: 32)
            case "x-webhook-id": forged
            default: nil
            }
        }
        #expect(response.status == .unauthorized)
        let logged = try #require(handler.entries.withLock { $0 }.first { $0.message.contains("webhook rejected") })
        let delivery = try #require(logged.metadata["delivery_id"])
        #expect(!delivery.contains("\r") && !delivery.contains("\n") && !delivery.unicodeScalars.contains("\u{1B}"), "\(delivery)")
        #expect(delivery == #"DLV_1\r\n2026-12-02T10:00:00+0000 info heartland-ingest : webhook recorded\u{1B}[2J"#)
    }
}
