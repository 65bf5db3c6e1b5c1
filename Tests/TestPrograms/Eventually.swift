/// A condition a test waited for that did not come: names what was awaited, for how long, and where the test waits.
public struct TimedOut: Error, CustomStringConvertible {
    public let description: String
}

/// Waits until `condition` holds, asking again every `interval`; throws `TimedOut` after `timeout`. Never a fixed sleep:
/// on a loaded machine the condition comes late, and the generous deadline is there for that, not for the usual case.
///
/// One helper for XCTest and Swift Testing alike: both record a thrown error as the test's failure, and the error carries
/// the caller's file and line, so a timeout reads as "timed out after 90 s waiting for: the batch posted
/// (ChaosTests.swift:120)".
public func eventually(
    timeout: Duration = .seconds(90), every interval: Duration = .milliseconds(50), _ what: String,
    file: StaticString = #filePath, line: UInt = #line, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: interval)
    }
    if try await condition() { return }  // the last look, when the last sleep ended past the deadline
    let place = "\(file)".split(separator: "/").last.map(String.init) ?? "\(file)"
    throw TimedOut(description: "timed out after \(timeout) waiting for: \(what) (\(place):\(line))")
}
