import Foundation
@testable import MappingEditor
import MappingTestSupport
import Synchronization
import Testing

/// The mapping check off the console's request (docs/MAPPING.md, "Cost"): one job per exact input, its progress while it
/// runs, its result once done, and the same findings whatever the number of threads that try the batches.
@Suite struct MappingCheckJobsTests {
    static func key(_ candidate: String, kept: String = "batch_event: 3") -> MappingCheckJobs.Key {
        MappingCheckJobs.Key(candidate: candidate, inForce: "in force", chart: "1210\tVisa\ttrue", kept: kept)
    }

    static let finished = MappingCheck(problems: [], sageAccounts: 1, batches: 3, payRuns: 0, since: "2026-11-01T00:00:00Z")

    @Test func aCheckLongerThanTheWaitAnswersWithItsProgressThenItsResultAndRunsOnce() async throws {
        let jobs = MappingCheckJobs()
        let runs = Mutex(0)
        let (release, releaser) = AsyncStream<Void>.makeStream()
        let run: @Sendable (@escaping @Sendable (Int, Int) -> Void) async throws -> MappingCheck = { progress in
            runs.withLock { $0 += 1 }
            progress(1, 3)
            for await _ in release { break }
            progress(3, 3)
            return Self.finished
        }
        // The request waits a little, then answers with the progress; asking again finds the same job, not a second one.
        var status = await jobs.status(of: Self.key("candidate"), wait: .milliseconds(50), run: run)
        let deadline = ContinuousClock.now + .seconds(30)
        while status == .running(tried: 0, total: 0), ContinuousClock.now < deadline {
            status = await jobs.status(of: Self.key("candidate"), wait: .milliseconds(50), run: run)
        }
        #expect(status == .running(tried: 1, total: 3))
        #expect(await jobs.status(of: Self.key("candidate"), wait: .zero, run: run) == .running(tried: 1, total: 3))
        releaser.yield()
        #expect(await jobs.status(of: Self.key("candidate"), wait: .seconds(30), run: run) == .finished(Self.finished))
        #expect(runs.withLock { $0 } == 1)
        // Another input (a batch kept since): a new check.
        releaser.yield()
        releaser.finish()
        #expect(await jobs.status(of: Self.key("candidate", kept: "batch_event: 4"), wait: .seconds(30), run: run) == .finished(Self.finished))
        #expect(runs.withLock { $0 } == 2)
    }

    @Test func aFailedCheckIsRunAgainWhenAskedAgain() async throws {
        struct Unreadable: Error, CustomStringConvertible { var description: String { "the inbox cannot be read" } }
        let jobs = MappingCheckJobs()
        let runs = Mutex(0)
        let run: @Sendable (@escaping @Sendable (Int, Int) -> Void) async throws -> MappingCheck = { _ in
            if runs.withLock({ $0 += 1; return $0 }) == 1 { throw Unreadable() }
            return Self.finished
        }
        #expect(await jobs.status(of: Self.key("candidate"), wait: .seconds(30), run: run) == .failed("the inbox cannot be read"))
        #expect(await jobs.status(of: Self.key("candidate"), wait: .seconds(30), run: run) == .finished(Self.finished))
    }

    /// The checks' and the backtest's CPU (`offThePool`) holds threads of its own, across its awaits too: more works blocked
    /// at once than the cooperative pool has threads, and the pool still runs the task that lets them go.
    @Test func workOffThePoolLeavesTheCooperativePoolFreeAcrossItsAwaits() async throws {
        let works = ProcessInfo.processInfo.activeProcessorCount + 1
        let gate = Gate()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<works {
                group.addTask {
                    await offThePool { () async -> Bool in
                        await Task.yield()  // resumed on the work's own thread, not on the pool
                        return gate.pass()
                    }
                }
            }
            while gate.arrived < works, Date() < gate.deadline { try await Task.sleep(for: .milliseconds(10)) }
            gate.open()
            for try await passed in group { #expect(passed) }
        }
        #expect(gate.arrived == works)
    }

    /// Blocks the threads that arrive until it is opened (false if it is not opened within 30 s).
    final class Gate: Sendable {
        private let condition = NSCondition()
        private let state = Mutex((arrived: 0, open: false))
        let deadline = Date().addingTimeInterval(30)

        var arrived: Int { state.withLock { $0.arrived } }

        func pass() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            state.withLock { $0.arrived += 1 }
            while !state.withLock({ $0.open }) {
                // blocking-ok: a thread of offThePool's own (were it the pool's, the test's task could not open the gate)
                guard condition.wait(until: deadline) else { return false }
            }
            return true
        }

        func open() {
            condition.lock()
            state.withLock { $0.open = true }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The batches are tried by several threads; the findings (errors, warnings, their order) are those of one thread.
    @Test func theCheckFindsTheSameProblemsInTheSameOrderWhateverTheConcurrency() async throws {
        let fixture = try await MappingFixture.start()
        defer { Task { await fixture.stop() } }
        // Batches of brands with a rule and of brands that fall to the fallback account (warnings, counted across batches).
        for (index, brand) in ["VISA", "JCB", "VISA", "UNIONPAY", "JCB", "MC", "DINERS", "VISA"].enumerated() {
            try await fixture.keep(MappingFixture.storeDay(batch: "BAT_MIX_\(index)", date: "2026-11-2\(index % 9)", brand: brand, store: "S-\(index)"))
        }
        let workbench = fixture.workbench
        let chart = try await workbench.chart()
        let candidate = try workbench.candidate([MappingEditorTests.visa: "1213"], chart: chart)
        let recent = try await workbench.recent()
        let serial = MappingChecker.check(candidate, inForce: try workbench.inForce(), chart: chart, batches: recent.batches, payRuns: recent.payRuns,
                                          since: recent.since, concurrency: 1)
        let tried = Mutex(0)
        let concurrent = MappingChecker.check(candidate, inForce: try workbench.inForce(), chart: chart, batches: recent.batches,
                                              payRuns: recent.payRuns, since: recent.since, concurrency: 4) { _ in tried.withLock { $0 += 1 } }
        #expect(serial.batches == 9)
        #expect(serial.problems.contains { $0.message.contains("card brand \"JCB\" (2 tender(s) in the window)") }, "\(serial.problems)")
        #expect(concurrent == serial)
        #expect(tried.withLock { $0 } == recent.batches.count + recent.payRuns.count)

        // The workbench reads the window a page at a time: two batches a page finds what the whole window gives.
        var paged = workbench
        paged.batchPageSize = 2
        let progress = Mutex<[Int]>([])
        let byPages = try await paged.check(candidate, chart: chart) { tried, total in
            #expect(total == 9)
            progress.withLock { $0.append(tried) }
        }
        #expect(byPages.problems == serial.problems && byPages.batches == 9)
        #expect(progress.withLock { $0.max() } == 9)
    }
}
