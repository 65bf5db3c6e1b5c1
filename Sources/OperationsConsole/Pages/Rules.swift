import Foundation
import FraudScoring
import MappingEditor

/// `/rules`: the fraud rule file, a candidate text's check and backtest (run off the request, `checkInBackground`).
struct RulesPage: Encodable, Sendable {
    var file: String
    /// The candidate (from the query), else the file's text.
    var text: String
    var days: Int
    /// The candidate differs from the file.
    var changed: Bool
    var check: RulesCheck?
    /// The backtest still running (it goes on after the request; the page reloads itself): batches read so far.
    var checkRunning: CheckProgress?
    var problem: String?
}

extension OperationsConsole {
    func rulesWorkbench() throws -> RulesWorkbench {
        guard let workbench = configuration.rules else {
            // Not configured is no page (404, as docs/CONSOLE.md says), not a console that is failing (503).
            throw ConsoleError.notFound("no fraud rules page: the console has no fraud rule file; pass --fraud-rules (or BRIDGE_FRAUD_RULES, "
                                        + "the fraud-scorer's) to the alerter")
        }
        return workbench
    }

    func rulesPage(_ fields: [String: String]) async throws -> RulesPage {
        let workbench = try rulesWorkbench()
        let inForce: String
        do { inForce = try workbench.inForce() } catch { throw ConsoleError.unavailable("\(error)") }
        let text = fields["text"].map { $0.replacingOccurrences(of: "\r\n", with: "\n") } ?? inForce
        var page = RulesPage(file: workbench.rulesPath, text: text, days: Int(fields["days"] ?? "") ?? 30, changed: text != inForce)
        guard fields["check"] != nil else { return page }
        do {
            let shown = try await workbench.checkInBackground(text, days: page.days).shown
            (page.check, page.checkRunning) = (shown.outcome, shown.running)
            page.problem = shown.failure.map { "the backtest failed: \($0)" }
        } catch { page.problem = "the backtest failed: \(error)" }
        return page
    }

    func saveRules(_ fields: [String: String], actor: String) async throws -> String {
        let workbench = try rulesWorkbench()
        let why = fields["why"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !why.isEmpty else { throw ConsoleError.badRequest("say why the rules change (kept with the version)") }
        guard let text = fields["text"]?.replacingOccurrences(of: "\r\n", with: "\n") else { throw ConsoleError.badRequest("no rules (text)") }
        let version = try await versioned { try await workbench.save(text, actor: actor, why: why) }
        await audit(event: .rulesSaved, stage: "console", detail: "version \(version.id); why: \(why)", actor: actor,
                    idempotencyKey: "rules:version:\(version.id)", session: nil)
        return "saved fraud rules version \(version.id)"
    }

    func restoreRules(_ id: Int64, why: String, actor: String) async throws -> String {
        let workbench = try rulesWorkbench()
        guard !why.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ConsoleError.badRequest("say why the version is restored") }
        let version = try await versioned { try await workbench.restore(id, actor: actor, why: why) }
        await audit(event: .rulesRestored, stage: "console", detail: "version \(version.id) restores version \(id); why: \(why)", actor: actor,
                    idempotencyKey: "rules:version:\(version.id)", session: nil)
        return "restored fraud rules version \(id) as version \(version.id)"
    }

    func rulesVersions() async throws -> [MappingVersions.Version] {
        guard let versions = try rulesWorkbench().versions else { throw ConsoleError.unavailable("the console has no version store for the fraud rules") }
        return try await versions.versions()
    }

    func rulesVersion(_ label: String) async throws -> MappingVersions.Version {
        guard let id = Int64(label), let versions = try rulesWorkbench().versions else { throw ConsoleError.notFound("no fraud rules version \(label)") }
        return try await versioned { try await versions.version(id) }
    }

    /// A version store's and a workbench's failures as the console answers them: 404 for no such version, 400 for a
    /// text that does not parse or no why, 409 for nothing to save or a check that refuses the change, 503 for what
    /// cannot be reached.
    func versioned<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as MappingVersions.Failure {
            switch failure {
            case .notFound: throw ConsoleError.notFound(failure.description)
            case .missingWhy: throw ConsoleError.badRequest(failure.description)
            case .unchanged: throw ConsoleError.conflict(failure.description)
            }
        } catch let failure as MappingWorkbench.Failure {
            switch failure {
            case .refused: throw ConsoleError.conflict(failure.description)
            case .notFound: throw ConsoleError.notFound(failure.description)
            case .unavailable: throw ConsoleError.unavailable(failure.description)
            case .checking: throw ConsoleError.conflict(failure.description)
            }
        } catch let error as RuleSyntaxError {
            throw ConsoleError.badRequest(error.description)
        }
    }
}
