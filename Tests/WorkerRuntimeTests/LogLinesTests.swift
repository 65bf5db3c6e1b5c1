import Logging
import Synchronization
import Testing
@testable import WorkerRuntime

/// The workers' log handler writes the lines swift-log's stream handler writes, metadata and all.
@Suite struct LogLinesTests {
    final class Lines: TextOutputStream, @unchecked Sendable {  // written under `lock` only
        private let lock = Mutex<[String]>([])
        func write(_ string: String) { lock.withLock { $0.append(string) } }
        /// The lines without their timestamps (everything before the level).
        var written: [String] { lock.withLock { $0 }.map { String($0.drop { $0 != " " }) } }
    }

    static func log(_ logger: Logger) {
        var logger = logger
        logger.logLevel = .info
        logger[metadataKey: "message_id"] = "m-1"
        logger[metadataKey: "attempt"] = .stringConvertible(2)
        logger.info("nothing of its own")
        logger.warning("its own too", metadata: ["detail": "d", "attempt": "3"])
        logger[metadataKey: "attempt"] = nil
        logger.error("one key less", metadata: ["list": .array(["a", "b"])])
        logger.debug("below the level")
        var bare = logger
        bare.handler.metadata = [:]
        bare.notice("no metadata at all")
    }

    @Test(arguments: [false, true])
    func theLinesAreTheStreamHandlers(withProvider: Bool) {
        let provider: Logger.MetadataProvider? = withProvider ? Logger.MetadataProvider { ["provided": "p", "detail": "from the provider"] } : nil
        let plain = Lines(), ours = Lines()
        Self.log(Logger(label: "stage") { StreamLogHandler(label: $0, stream: plain, metadataProvider: provider) })
        Self.log(Logger(label: "stage") { RenderedWhenWritten(StreamLogHandler(label: $0, stream: ours, metadataProvider: provider)) })
        #expect(ours.written.count == 4)
        #expect(ours.written == plain.written)
        let expected = withProvider ? "attempt=2 detail=from the provider message_id=m-1 provided=p" : "attempt=2 message_id=m-1"
        #expect(ours.written.first == " info stage: \(expected) [WorkerRuntimeTests] nothing of its own\n")
    }
}
