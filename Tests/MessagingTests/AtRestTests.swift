import Foundation
import GRDB
import GRDBSQLite
import Logging
import Messaging
import Synchronization
import TestPrograms
import Testing

/// A worker gives back what it kept for speed once it is at rest after work (`RestWatch`, `RestingMemory`), and what it
/// gives back includes the caches of every SQLite file it opened (`AtRest`).
@Suite struct AtRestTests {
    // MARK: when (RestWatch: CPU time sampled at an interval; rest is less than `quiet` in one)

    /// The watch's answer for each CPU time in turn, one a sample.
    private func answers(_ cpuTimes: [Duration], quiet: Duration = .milliseconds(50)) -> [Bool] {
        var watch = RestWatch(quiet: quiet)
        return cpuTimes.map { watch.sample($0) }
    }

    @Test func aRestAfterWorkReleasesOnce() {
        let cpu: [Duration] = [.zero, .milliseconds(400), .milliseconds(800), .milliseconds(801), .milliseconds(802), .milliseconds(803)]
        // the first sample only sets where counting starts; two intervals of work; the first rest after it; still at rest
        #expect(answers(cpu) == [false, false, false, true, false, false])
    }

    @Test func aProcessThatNeverWorkedNeverReleases() {
        #expect(!answers((0..<100).map { .microseconds($0 * 100) }).contains(true))
    }

    @Test func aBusyProcessReleasesNothingUntilItRests() {
        let cpu: [Duration] = (0..<100).map { .milliseconds($0 * 60) } + [.milliseconds(99 * 60 + 1)]
        #expect(answers(cpu) == Array(repeating: false, count: 100) + [true])
    }

    /// Scrapes and single messages each use less than `quiet` an interval; together they are work worth a release.
    @Test func smallWorkAddsUpToARelease() {
        let releases = answers((0...20).map { .milliseconds($0 * 10) })
        #expect(releases.indices.filter { releases[$0] } == [5, 10, 15, 20])  // at 50, 100, 150 and 200 ms used
    }

    // MARK: the service (its own clock's intervals; the CPU time and the release given by the test)

    final class Process: Sendable {
        struct State { var cpu = Duration.zero, working = true, samples = 0, releases = 0 }
        let state = Mutex(State())

        /// A working process uses a second of CPU between two samples; a resting one nothing.
        func cpuTime() -> Duration {
            state.withLock { state in
                state.samples += 1
                if state.working { state.cpu += .seconds(1) }
                return state.cpu
            }
        }

        func samples() -> Int { state.withLock(\.samples) }
        func releases() -> Int { state.withLock(\.releases) }
    }

    @Test func theServiceReleasesOnceWhenWorkStopsAndStopsWhenCancelled() async throws {
        let process = Process()
        let service = RestingMemory(interval: .milliseconds(5), logger: Logger(label: "test"),
                                    cpuTime: { process.cpuTime() },
                                    release: { process.state.withLock { $0.releases += 1 } })
        let running = Task { await service.run() }
        try await eventually(every: .milliseconds(2), "20 samples") { process.samples() >= 20 }
        #expect(process.releases() == 0)  // twenty intervals of work, no rest

        process.state.withLock { $0.working = false }
        try await eventually(every: .milliseconds(2), "the release") { process.releases() == 1 }
        let restedFrom = process.samples()
        try await eventually(every: .milliseconds(2), "20 samples more at rest") { process.samples() >= restedFrom + 20 }
        #expect(process.releases() == 1)  // twenty intervals more at rest: nothing more

        process.state.withLock { $0.working = true }
        let workedFrom = process.samples()
        try await eventually(every: .milliseconds(2), "3 samples of work") { process.samples() >= workedFrom + 3 }
        process.state.withLock { $0.working = false }
        try await eventually(every: .milliseconds(2), "the second release") { process.releases() == 2 }  // work again, rest again: once again

        running.cancel()
        await running.value  // returns: the service ends with its task
    }

    // MARK: what (AtRest.release: every pool SQLiteFile opened)

    /// A file of 4 MB read through the writer fills its page cache (SQLite's default: 2 MB a connection); released, the
    /// cache is empty, and the file reads the same.
    @Test func releasingEmptiesThePageCacheOfEveryFileOpened() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("at-rest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let pool = try SQLiteFile.pool(path: folder + "/store.sqlite")
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE page (id INTEGER PRIMARY KEY, body BLOB)")
            for _ in 0..<1000 { try db.execute(sql: "INSERT INTO page (body) VALUES (zeroblob(4000))") }
        }
        let read = { try await pool.writeWithoutTransaction { db in
            (try Int.fetchOne(db, sql: "SELECT sum(length(body)) FROM page") ?? 0, Self.cacheUsed(db))
        } }
        let (before, full) = try await read()
        #expect(before == 4_000_000)
        #expect(full > 1_000_000)

        await AtRest.release()
        let emptied = try await pool.writeWithoutTransaction { db in Self.cacheUsed(db) }
        #expect(emptied < full / 10)
        #expect(try await read().0 == before)
    }

    private static func cacheUsed(_ db: Database) -> Int {
        var used: Int32 = 0, highest: Int32 = 0
        sqlite3_db_status(db.sqliteConnection, SQLITE_DBSTATUS_CACHE_USED, &used, &highest, 0)
        return Int(used)
    }

}
