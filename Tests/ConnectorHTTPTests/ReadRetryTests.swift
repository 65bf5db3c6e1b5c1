import ConnectorHTTP
import Synchronization
import Testing

/// The one loop both connectors ask a read again with (their own tests: Heartland's `FaultTests`, Sage's
/// `SageWebAPIFaultTests`, against the simulators' injected 5xx).
@Suite struct ReadRetryTests {
    struct Refused: Error, Equatable { let attempt: Int }

    @Test func anOutcomeWorthItIsAskedAgainUpToTheRetriesAndTheLastIsReturned() async throws {
        let attempts = Mutex(0)
        let retried = Mutex<[Int]>([])
        let error = await #expect(throws: Refused.self) {
            try await ReadRetry.run(retries: 2, askAgain: { _ in true }, retried: { _, retry in retried.withLock { $0.append(retry) } }) {
                () async throws(Refused) -> Int in
                throw Refused(attempt: attempts.withLock { $0 += 1; return $0 })
            }
        }
        #expect(error == Refused(attempt: 3))
        #expect(retried.withLock { $0 } == [1, 2])
    }

    @Test func anAnswerEndsTheAskingAndAnOutcomeNotWorthItIsNotAskedAgain() async throws {
        let attempts = Mutex(0)
        let answer = try await ReadRetry.run(retries: 2, askAgain: { (try? $0.get()) == 503 }, retried: { _, _ in }) {
            () async throws(Refused) -> Int in attempts.withLock { $0 += 1; return $0 == 1 ? 503 : 200 }
        }
        #expect(answer == 200)
        #expect(attempts.withLock { $0 } == 2)

        let once = await #expect(throws: Refused.self) {
            try await ReadRetry.run(retries: 2, askAgain: { _ in false }, retried: { _, _ in }) { () async throws(Refused) -> Int in
                throw Refused(attempt: 1)
            }
        }
        #expect(once == Refused(attempt: 1))
    }

    @Test func aCancelledTaskIsNotAskedAgain() async throws {
        let attempts = Mutex(0)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await ReadRetry.run(retries: 2, askAgain: { _ in true }, retried: { _, _ in }) { () async throws(Refused) -> Int in
                throw Refused(attempt: attempts.withLock { $0 += 1; return $0 })
            }
        }
        guard case .failure(let error) = await task.result else {
            Issue.record("expected the refusal")
            return
        }
        #expect(error as? Refused == Refused(attempt: 1))
        #expect(attempts.withLock { $0 } == 1)
    }

    @Test func thePausesGrowFourfoldWithinHalfEitherSideUpToTenSeconds() {
        for _ in 0..<100 {
            #expect((Duration.milliseconds(100)...Duration.milliseconds(300)).contains(ReadRetry.pause(before: 1)))
            #expect((Duration.milliseconds(400)...Duration.milliseconds(1200)).contains(ReadRetry.pause(before: 2)))
            #expect((Duration.seconds(5)...Duration.seconds(15)).contains(ReadRetry.pause(before: 10)))
        }
    }

    @Test func onlyARefusedOrDroppedConnectionIsWorthAskingAgain() {
        func failure(_ kind: ConnectorTransport.Failure.Kind) -> ConnectorTransport.Failure {
            ConnectorTransport.Failure(kind: kind, endpoint: "host:1", detail: "")
        }
        #expect(ReadRetry.worthAskingAgain(failure(.connectionRefused)))
        #expect(ReadRetry.worthAskingAgain(failure(.connectionLost)))
        #expect(!ReadRetry.worthAskingAgain(failure(.timedOut)))
        #expect(!ReadRetry.worthAskingAgain(failure(.tls)))
        #expect(!ReadRetry.worthAskingAgain(failure(.cancelled)))
        #expect(ReadRetry.statuses == [500, 502, 503, 504])
    }
}

