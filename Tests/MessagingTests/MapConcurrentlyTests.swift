import Messaging
import Synchronization
import Testing

/// `mapConcurrently(limit:)`: the stage runner's handlers of a batch, Heartland's ticket pages and a batch's customers.
@Suite struct MapConcurrentlyTests {
    struct Bad: Error, Equatable { var element: Int }

    /// How many transforms run at once, and the most that ever did.
    final class InFlight: Sendable {
        private let state = Mutex((now: 0, most: 0, started: 0))
        func enter() { state.withLock { $0.now += 1; $0.started += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var started: Int { state.withLock { $0.started } }
    }

    @Test(arguments: [1, 2, 3, 8])
    func resultsComeInTheCollectionsOrderWithNoMoreThanTheLimitAtOnce(limit: Int) async {
        let inFlight = InFlight()
        let results = await Array(0..<40).mapConcurrently(limit: limit) { element -> String in
            inFlight.enter()
            defer { inFlight.leave() }
            for _ in 0..<(element % 5) { await Task.yield() }  // some finish before those started earlier
            return "#\(element)"
        }
        #expect(results == (0..<40).map { "#\($0)" })
        #expect(inFlight.most <= limit)
        #expect(inFlight.started == 40)
    }

    @Test func anEmptyCollectionAndASingleElement() async throws {
        #expect(await [Int]().mapConcurrently(limit: 4) { $0 * 2 } == [])
        #expect(try await [21].mapConcurrently(limit: 4) { element throws -> Int in element * 2 } == [42])
    }

    /// Element 0 fails; the others wait until they are cancelled: only those started beside it ever start.
    @Test(arguments: [1, 3])
    func theFirstFailureIsThrownAndNoOtherTransformStartsAfterIt(limit: Int) async {
        let inFlight = InFlight()
        let error = await #expect(throws: Bad.self) {
            try await Array(0..<50).mapConcurrently(limit: limit) { element -> Int in
                inFlight.enter()
                defer { inFlight.leave() }
                if element == 0 { throw Bad(element: element) }
                let deadline = ContinuousClock.now + .seconds(60)
                while !Task.isCancelled, ContinuousClock.now < deadline { await Task.yield() }
                return element
            }
        }
        #expect(error == Bad(element: 0))
        #expect(inFlight.started == limit)
    }

    /// A transform still in flight when another fails is cancelled; the error thrown is the failure, not the cancellation
    /// it caused.
    @Test func aFailureCancelsTheTransformsInFlightAndIsWhatIsThrown() async {
        let cancelled = Mutex(false)
        let error = await #expect(throws: Bad.self) {
            try await [0, 1].mapConcurrently(limit: 2) { element -> Int in
                guard element == 0 else { throw Bad(element: element) }
                let deadline = ContinuousClock.now + .seconds(60)
                while !Task.isCancelled, ContinuousClock.now < deadline { await Task.yield() }
                cancelled.withLock { $0 = Task.isCancelled }
                try Task.checkCancellation()
                return element
            }
        }
        #expect(error == Bad(element: 1))
        #expect(cancelled.withLock { $0 })
    }
}
