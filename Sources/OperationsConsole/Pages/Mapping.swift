import Accounting
import Foundation
import MappingEditor
import SageConnector

/// A check that goes on after the request (the mapping check, the rules' backtest; the page reloads itself): how many of the
/// window's kept batches (and pay runs) it has tried so far.
struct CheckProgress: Encodable, Sendable {
    var tried, total: Int
}

extension CheckJobs.Status {
    /// The status as a page shows it: the result once finished, the progress while running, why it failed.
    var shown: (outcome: Outcome?, running: CheckProgress?, failure: String?) {
        switch self {
        case .finished(let outcome): (outcome, nil, nil)
        case .running(let tried, let total): (nil, CheckProgress(tried: tried, total: total), nil)
        case .failed(let why): (nil, nil, why)
        }
    }
}

/// `/mapping`: the GL mapping as rows, edited with choices from Sage's live chart, checked and previewed before a save.
struct MappingPage: Encodable, Sendable {
    struct Row: Encodable, Sendable {
        var rule, kind, heartland: String
        var note: String?
        var account, accountName: String
        /// The account chosen for the candidate, when it differs from the file's.
        var proposed: String?
    }

    struct Account: Encodable, Sendable {
        var number, name: String
        var active: Bool
    }

    struct Day: Encodable, Sendable {
        var batchId, store, businessDate: String
    }

    var file: String
    var rows: [Row]
    /// Sage's chart, live; nil when Sage could not be asked (`chartProblem` says why).
    var chart: [Account]?
    var chartProblem: String?
    /// Closed batches heartland-ingest kept in the window, newest first: the days a preview can use.
    var days: [Day]
    var daysProblem: String?
    /// The rule → account changes proposed (from the query or the form).
    var changes: [String: String]
    var check: MappingCheck?
    /// The check still running (it goes on after the request; the page reloads itself): batches and pay runs tried so far.
    var checkRunning: CheckProgress?
    var checkProblem: String?
    var previews: [JournalPreview]?
    var previewProblem: String?
    var previewDay: String?
    var why: String?
}

extension OperationsConsole {
    func mappingWorkbench() throws -> MappingWorkbench {
        guard let workbench = configuration.mapping else {
            throw ConsoleError.unavailable("the console has no mapping file: pass --mapping (or BRIDGE_MAPPING) to the alerter")
        }
        return workbench
    }

    /// The proposed changes: fields `account.<rule>` whose value differs from the file's.
    static func proposedChanges(_ fields: [String: String], rows: [MappingRow]) -> [String: String] {
        var changes: [String: String] = [:]
        for row in rows {
            guard let value = fields["account.\(row.rule)"]?.trimmingCharacters(in: .whitespaces), !value.isEmpty, value != row.account else { continue }
            changes[row.rule] = value
        }
        return changes
    }

    /// The page: the rows, the chart, and with `check=1` (or a day) the candidate's check and preview.
    func mappingPage(_ fields: [String: String]) async throws -> MappingPage {
        let workbench = try mappingWorkbench()
        let document: MappingDocument
        do { document = try workbench.inForce() } catch { throw ConsoleError.unavailable("\(error)") }
        let rows = document.rows
        let changes = Self.proposedChanges(fields, rows: rows)
        var page = MappingPage(file: workbench.mappingPath, rows: rows.map {
            .init(rule: $0.rule, kind: $0.kind, heartland: $0.heartland, note: $0.note, account: $0.account, accountName: $0.accountName,
                  proposed: changes[$0.rule])
        }, days: [], changes: changes, why: fields["why"])
        var chart: [SageGLAccount] = []
        do {
            chart = try await workbench.chart()
            page.chart = chart.map { .init(number: $0.accountNumber, name: $0.description, active: $0.isActive) }
        } catch {
            page.chartProblem = "Sage's chart of accounts could not be read: \(error)"
        }
        do {
            page.days = try await workbench.keptBatches().reversed().map {
                .init(batchId: $0.batchID, store: $0.store, businessDate: $0.businessDate)
            }.filter { !$0.batchId.isEmpty }
        } catch {
            page.daysProblem = "heartland-ingest's kept days could not be read: \(error)"
        }
        guard fields["check"] != nil || fields["day"].map({ !$0.isEmpty }) == true, page.chart != nil else { return page }
        let candidate: MappingDocument
        do {
            candidate = try workbench.candidate(changes, chart: chart)
        } catch {
            page.checkProblem = "\(error)"
            return page
        }
        do {
            (page.check, page.checkRunning, page.checkProblem) = try await workbench.checkInBackground(candidate).shown
        } catch { page.checkProblem = "\(error)" }
        if let day = fields["day"], !day.isEmpty {
            page.previewDay = day
            do { page.previews = try await workbench.preview(candidate, batchID: day) } catch { page.previewProblem = "\(error)" }
        }
        return page
    }

    /// Saves the proposed changes as a new version, or refuses them with the check's reasons.
    func saveMapping(_ fields: [String: String], actor: String) async throws -> String {
        let workbench = try mappingWorkbench()
        let why = fields["why"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !why.isEmpty else { throw ConsoleError.badRequest("say why the mapping changes (kept with the version)") }
        let document = try workbench.inForce()
        let changes = Self.proposedChanges(fields, rows: document.rows)
        guard !changes.isEmpty else { throw ConsoleError.badRequest("no account was changed: nothing to save") }
        let chart: [SageGLAccount]
        do { chart = try await workbench.chart() } catch { throw ConsoleError.unavailable("Sage's chart of accounts could not be read: \(error)") }
        let candidate: MappingDocument
        do { candidate = try workbench.candidate(changes, chart: chart) } catch { throw ConsoleError.badRequest("\(error)") }
        let (version, _) = try await versioned { try await workbench.save(candidate, actor: actor, why: why) }
        let old = Dictionary(document.rows.map { ($0.rule, $0.account) }, uniquingKeysWith: { first, _ in first })
        let detail = changes.keys.sorted().map { "\($0): \(old[$0] ?? "?") → \(changes[$0]!)" }
        await audit(event: .mappingSaved, stage: "console", detail: "version \(version.id): \(detail.joined(separator: ", ")); why: \(why)",
                    actor: actor, idempotencyKey: "mapping:version:\(version.id)", session: nil)
        return "saved mapping version \(version.id): \(detail.joined(separator: ", "))"
    }

    func restoreMapping(_ id: Int64, why: String, actor: String) async throws -> String {
        let workbench = try mappingWorkbench()
        guard !why.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ConsoleError.badRequest("say why the version is restored") }
        let (version, _) = try await versioned { try await workbench.restore(id, actor: actor, why: why) }
        await audit(event: .mappingRestored, stage: "console", detail: "version \(version.id) restores version \(id); why: \(why)",
                    actor: actor, idempotencyKey: "mapping:version:\(version.id)", session: nil)
        return "restored mapping version \(id) as version \(version.id)"
    }

    func mappingVersions() async throws -> [MappingVersions.Version] {
        guard let versions = try mappingWorkbench().versions else {
            throw ConsoleError.unavailable("the console has no mapping version store: pass --mapping-versions (or BRIDGE_MAPPING_VERSIONS)")
        }
        return try await versions.versions()
    }

    func mappingVersion(_ label: String) async throws -> MappingVersions.Version {
        guard let id = Int64(label) else { throw ConsoleError.notFound("no mapping version \(label)") }
        guard let versions = try mappingWorkbench().versions else {
            throw ConsoleError.unavailable("the console has no mapping version store: pass --mapping-versions (or BRIDGE_MAPPING_VERSIONS)")
        }
        return try await versioned { try await versions.version(id) }
    }
}
