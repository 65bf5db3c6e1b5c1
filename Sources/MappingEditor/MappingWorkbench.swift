import Accounting
import Foundation
import HeartlandIngest
import PipelineContracts
import SageConnector

/// What the mapping page and `bridgectl mapping` read Sage through: the live chart and the journals it holds.
public protocol SageChartReader: Sendable {
    func accounts() async throws -> [SageGLAccount]
    func postedJournals(reference: String) async throws -> [SagePostedJournal]
}

extension SageWebAPIClient: SageChartReader {}

/// The mapping page's work, shared by the console and `bridgectl mapping`: the file in force, Sage's chart, Heartland's
/// last 30 days (heartland-ingest's kept events), the checks, the preview, saving and restoring versions.
public struct MappingWorkbench: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case unavailable(String)
        case refused(MappingCheck)
        case notFound(String)
        /// The check of the candidate is still running: nothing saved yet.
        case checking(tried: Int, total: Int)

        public var description: String {
            switch self {
            case .checking(let tried, let total):
                "the mapping was not saved: its check is still running (\(tried) of \(total) closed batches and pay runs tried); "
                    + "save again once the page shows the check passed"
            case .unavailable(let why): why
            case .notFound(let what): what
            case .refused(let check):
                "the mapping was not saved: " + check.errors.map(\.message).joined(separator: "; ")
            }
        }
    }

    /// The mapping file the transformer reads (the source of truth).
    public var mappingPath: String
    public var versions: MappingVersions?
    public var sage: (any SageChartReader)?
    /// heartland-ingest's inbox (`KeptEvents`), opened read-only when needed: it may not exist yet when the console starts.
    public var historyPath: String?
    /// How far back Heartland's data is checked.
    public var window: TimeInterval = 30 * 24 * 3600
    public var now: @Sendable () -> Date = { Date() }
    /// How long the console's request waits for a check before answering with its progress (the check goes on).
    public var checkWait: Duration = .seconds(3)
    /// How many kept batches a check reads and tries at a time: a month of many stores is hundreds of megabytes of tickets.
    public var batchPageSize = 32
    /// The checks run for the console, shared by every copy of this workbench.
    public let checks = MappingCheckJobs()

    public init(mappingPath: String, versions: MappingVersions?, sage: (any SageChartReader)?, historyPath: String?) {
        self.mappingPath = mappingPath
        self.versions = versions
        self.sage = sage
        self.historyPath = historyPath
    }

    func history() throws -> KeptEvents? {
        guard let historyPath else { return nil }
        return try KeptEvents.open(path: historyPath)
    }

    /// The mapping file as it is on disk.
    public func inForce() throws -> MappingDocument {
        let text: String
        do {
            text = try String(contentsOfFile: mappingPath, encoding: .utf8)
        } catch {
            throw Failure.unavailable("the mapping file \(mappingPath) cannot be read: \(error.localizedDescription)")
        }
        return try MappingDocument(yaml: text, source: mappingPath)
    }

    func sageReader() throws -> any SageChartReader {
        guard let sage else { throw Failure.unavailable("no Sage connection: set SAGE_URL, SAGE_USER and SAGE_PASSWORD[_FILE] (Web API)") }
        return sage
    }

    /// Sage's chart of accounts, live, in account order.
    public func chart() async throws -> [SageGLAccount] {
        try await sageReader().accounts().sorted { $0.accountNumber < $1.accountNumber }
    }

    /// The closed batches and pay runs of the window (none without the inbox).
    public func recent() async throws -> (batches: [BatchClosedEvent], payRuns: [PayrollCompletedEvent], since: Date) {
        let since = now().addingTimeInterval(-window)
        guard let history = try history() else { return ([], [], since) }
        return (try await history.batches(since: since), try await history.payRuns(since: since), since)
    }

    /// The closed batches kept in the window, oldest first, without their tickets: the days a preview can use.
    public func keptBatches() async throws -> [(batchID: String, store: String, businessDate: String)] {
        try await history()?.batchList(since: now().addingTimeInterval(-window)) ?? []
    }

    /// Checks a candidate against Sage's live chart and the window's Heartland data (`bridgectl mapping validate`: it waits
    /// for the whole check; the console runs it as a job, `checkInBackground`).
    public func check(_ candidate: MappingDocument) async throws -> MappingCheck {
        try await check(candidate, chart: try await chart(), progress: nil)
    }

    func check(_ candidate: MappingDocument, chart: [SageGLAccount], progress: (@Sendable (_ tried: Int, _ total: Int) -> Void)?) async throws -> MappingCheck {
        let since = now().addingTimeInterval(-window)
        let history = try history()
        let inForce = try? inForce()
        let payRuns = try await history?.payRuns(since: since) ?? []
        let total = (try await history?.batchCount(since: since) ?? 0) + payRuns.count
        let tried = MappingChecker.Counter(progress.map { report in { @Sendable tried in report(tried, total) } })
        progress?(0, total)
        // Page by page, each page's batches tried on threads of their own (minutes of work for many stores), not on the
        // cooperative pool the console answers from.
        var findings: [MappingChecker.BatchFindings] = []
        try await history?.forEachBatchPage(since: since, limit: batchPageSize) { batches in
            findings += await offThePool {
                MappingChecker.findings(of: batches, candidate: candidate, inForce: inForce,
                                        concurrency: ProcessInfo.processInfo.activeProcessorCount, tried: tried)
            }
        }
        let perBatch = findings
        return await offThePool {
            MappingChecker.check(candidate, inForce: inForce, chart: chart, findings: perBatch, payRuns: payRuns, since: since, tried: tried)
        }
    }

    /// The candidate's check as the console runs it: a job per exact input (`MappingCheckJobs`), awaited at most `wait`;
    /// asking again gives its progress, then its result.
    public func checkInBackground(_ candidate: MappingDocument, wait: Duration? = nil) async throws -> MappingCheckJobs.Status {
        let chart = try await chart()
        let since = now().addingTimeInterval(-window)
        let key = MappingCheckInput(candidate: candidate.text, inForce: (try? inForce())?.text,
                                    chart: chart.map { "\($0.accountNumber)\t\($0.description)\t\($0.isActive)" }.joined(separator: "\n"),
                                    kept: try await history()?.fingerprint(since: since) ?? "")
        return await checks.status(of: key, wait: wait ?? checkWait) { progress in
            try await self.check(candidate, chart: chart, progress: progress)
        }
    }

    /// The candidate's journals of one closed batch beside what Sage holds.
    public func preview(_ candidate: MappingDocument, batchID: String) async throws -> [JournalPreview] {
        guard let history = try history() else { throw Failure.unavailable("no heartland-ingest inbox: pass --ingest-inbox or set BRIDGE_INGEST_INBOX") }
        guard let event = try await history.batch(id: batchID) else { throw Failure.notFound("heartland-ingest kept no batch \(batchID)") }
        let sage = try sageReader()
        return try await JournalPreview.previews(of: event, rules: candidate.rules, chart: try await chart()) { try await sage.postedJournals(reference: $0) }
    }

    /// The candidate with `changes` (rule → account) applied, accounts new to the file named as Sage names them.
    public func candidate(_ changes: [String: String], chart: [SageGLAccount]) throws -> MappingDocument {
        let names = Dictionary(chart.map { ($0.accountNumber, $0.description) }, uniquingKeysWith: { first, _ in first })
        return try inForce().setting(changes, names: names)
    }

    /// Checks the text and saves it as a new version (file and record), or refuses it with the check's errors.
    public func save(_ candidate: MappingDocument, actor: String, why: String, restoring: Int64? = nil) async throws -> (MappingVersions.Version, MappingCheck) {
        guard let versions else { throw Failure.unavailable("no mapping version store: pass --mapping-versions or set BRIDGE_MAPPING_VERSIONS") }
        // The check of this exact candidate, against the chart and the kept days as they are now: the page's, when it ran.
        let check: MappingCheck
        switch try await checkInBackground(candidate) {
        case .finished(let done): check = done
        case .running(let tried, let total): throw Failure.checking(tried: tried, total: total)
        case .failed(let why): throw Failure.unavailable(why)
        }
        guard check.passed else { throw Failure.refused(check) }
        let version = try await versions.save(candidate.text, to: mappingPath, actor: actor, why: why, restoring: restoring, now: now())
        return (version, check)
    }

    /// Saves an earlier version's text again, after the same checks (the chart may have changed since).
    public func restore(_ id: Int64, actor: String, why: String) async throws -> (MappingVersions.Version, MappingCheck) {
        guard let versions else { throw Failure.unavailable("no mapping version store: pass --mapping-versions or set BRIDGE_MAPPING_VERSIONS") }
        let earlier = try await versions.version(id)
        return try await save(try MappingDocument(yaml: earlier.text, source: mappingPath), actor: actor, why: why, restoring: id)
    }
}
