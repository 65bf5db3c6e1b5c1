import Foundation
import MappingEditor

/// `/mapping` and `/mapping/versions`: the GL mapping's rows, the check and preview of a change, save and restore.
extension HTML {
    /// An element id from a rule path (`tenders.card_brands.visa.account` → `tenders-card_brands-visa-account`).
    static func ruleID(_ rule: String) -> String {
        String(rule.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "-" })
    }

    static func mapping(_ page: MappingPage, principal: Principal) -> String {
        var html = """
            <p>Every rule of the mapping file <code>\(escape(page.file))</code> (the source of truth; the transformer reads it \
            again when it changes): the Heartland value on the left, the Sage account it posts to on the right. Choose accounts \
            from Sage's chart, pick a store day already posted, and check: the page lists what Sage or the last 30 days of \
            Heartland data would refuse and shows that day's journal next to what Sage holds. <a href="/mapping/versions">Versions</a>.</p>
            """
        if let problem = page.chartProblem { html += "<p class=\"error\" id=\"chart-problem\">\(escape(problem))</p>" }
        if let problem = page.daysProblem { html += "<p class=\"error\" id=\"days-problem\">\(escape(problem))</p>" }
        if let problem = page.checkProblem { html += "<p class=\"error\" id=\"check-problem\">\(escape(problem))</p>" }
        if let check = page.check { html += mappingCheck(check) }
        if let running = page.checkRunning {
            // The check goes on after this request: the page asks again every two seconds until it has the result.
            html += """
                <meta http-equiv="refresh" content="2"><p class="notice" id="check-running">Checking the change against the last 30 days: \
                \(running.tried) of \(running.total) closed batches and pay runs tried so far. This page reloads itself until the check \
                is done; a save waits for it.</p>
                """
        }
        if let problem = page.previewProblem { html += "<p class=\"error\" id=\"preview-problem\">\(escape(problem))</p>" }
        if let previews = page.previews { html += previews.map(journalPreview).joined() }
        if !page.changes.isEmpty, principal.user.role >= .mapper {
            let hidden = page.changes.sorted { $0.key < $1.key }.map { "<input type=\"hidden\" name=\"account.\(escape($0.key))\" value=\"\(escape($0.value))\">" }
            html += """
                <form id="save-form" method="post" action="/mapping/save">\
                <input type="hidden" name="csrf" value="\(escape(principal.csrfToken ?? ""))">\(hidden.joined())\
                <p>Save \(page.changes.count) change(s) as a new version: <input name="why" id="why" required placeholder="why (kept with the version)" \
                aria-label="why" value="\(escape(page.why ?? ""))"> <button type="submit" id="save">Save the mapping</button></p></form>
                """
        }
        let accounts = page.chart ?? []
        let rows = page.rows.map { row -> [String] in
            let chosen = row.proposed ?? row.account
            var options = accounts.map { account in
                "<option value=\"\(escape(account.number))\"\(account.number == chosen ? " selected" : "")>"
                    + escape("\(account.number) \(account.name)\(account.active ? "" : " (inactive)")") + "</option>"
            }
            if !accounts.contains(where: { $0.number == chosen }) {
                options.insert("<option value=\"\(escape(chosen))\" selected>\(escape(chosen)) (not in Sage's chart)</option>", at: 0)
            }
            let choice = accounts.isEmpty ? escape(row.account)
                : "<select name=\"account.\(escape(row.rule))\" id=\"account-\(ruleID(row.rule))\" aria-label=\"account for \(escape(row.rule))\">"
                    + options.joined() + "</select>"
            return [escape(row.kind), escape(row.heartland) + (row.note.map { "<br><small>\(escape($0))</small>" } ?? ""),
                    "<code>\(escape(row.rule))</code>", escape("\(row.account) \(row.accountName)"),
                    choice + (row.proposed != nil ? " <b class=\"changed\">changed</b>" : "")]
        }
        let days = ["<option value=\"\">(no preview)</option>"] + page.days.map { day in
            "<option value=\"\(escape(day.batchId))\"\(day.batchId == page.previewDay ? " selected" : "")>"
                + escape("\(day.businessDate) store \(day.store) batch \(day.batchId)") + "</option>"
        }
        html += """
            <form id="mapping-form" method="get" action="/mapping"><input type="hidden" name="check" value="1">
            \(table(id: "mapping-rows", ["Heartland", "Value", "Rule", "In the file", "Sage account"], rows))
            <p><label>Preview on a posted store day <select name="day" id="day">\(days.joined())</select></label>
            <button type="submit" id="check">Check and preview</button></p></form>
            """
        return html
    }

    static func mappingCheck(_ check: MappingCheck) -> String {
        let verdict = check.passed
            ? "<p class=\"notice\" id=\"check-verdict\">The mapping passes: every account exists and is active in Sage (\(check.sageAccounts) accounts), "
                + "and \(check.batches) closed batch(es) and \(check.payRuns) pay run(s) since \(escape(check.since)) build balanced journals.</p>"
            : "<p class=\"error\" id=\"check-verdict\">The mapping cannot be saved: \(check.errors.count) problem(s).</p>"
        let items = check.problems.map { "<li class=\"\($0.severity.rawValue)\">\($0.severity == .error ? "refused" : "note"): \(escape($0.message))</li>" }
        return verdict + (items.isEmpty ? "" : "<ul id=\"check-problems\">\(items.joined())</ul>")
    }

    static func journalPreview(_ preview: JournalPreview) -> String {
        func side(_ line: JournalPreview.Line?) -> [String] {
            guard let line else { return ["", "", ""] }
            return [escape("\(line.account) \(line.accountName)"), money(line.cents > 0 ? line.cents : nil), money(line.cents < 0 ? -line.cents : nil)]
        }
        let rows = preview.rows.map { row in
            [escape(row.description)] + side(row.proposed) + side(row.sage)
                + [row.status == .same ? "" : "<b class=\"difference\">\(escape(row.status.rawValue))</b>"]
        }
        let held = preview.sageBatch.map { "Sage batch \(escape($0))" } ?? "Sage holds nothing under this reference"
        return "<h2>Preview: \(escape(preview.reference))</h2><p id=\"preview-summary-\(ruleID(preview.reference))\">Store \(escape(preview.store)), "
            + "\(escape(preview.businessDate)); \(held); \(preview.differences) difference(s).</p>"
            + table(id: "preview-\(ruleID(preview.reference))",
                    ["Line", "With this mapping", "Debit", "Credit", "In Sage", "Debit", "Credit", "Difference"], rows)
    }

    /// The versions of the mapping (`base` `/mapping`) or of the fraud rules (`/rules`).
    static func mappingVersions(_ versions: [MappingVersions.Version], principal: Principal, base: String = "/mapping") -> String {
        let rows = versions.map { version -> [String] in
            let restore = principal.user.role >= .mapper && version.id != versions.first?.id
                ? form(action: "\(base)/versions/\(version.id)/restore", principal: principal, fields: [:], button: "Restore",
                       id: "restore-\(version.id)", whyPrompt: "why restore it")
                : ""
            return ["<a href=\"\(base)/versions/\(version.id)\">\(version.id)</a>", escape(version.savedAt), escape(version.actor),
                    escape(version.why), version.restoredFrom.map { "restores \($0)" } ?? "", restore]
        }
        return "<p>Every saved version of the file, newest first (the first is the file in force, unless it was edited by hand since).</p>"
            + table(id: "mapping-versions", ["Version", "Saved", "By", "Why", "", ""], rows)
    }

    static func mappingVersion(_ version: MappingVersions.Version) -> String {
        "<p>Saved \(escape(version.savedAt)) by \(escape(version.actor)): \(escape(version.why))</p><pre id=\"mapping-text\">\(escape(version.text))</pre>"
    }
}

/// `/rules`: the fraud rules on the same page model: the text, its check and backtest, save and restore.
extension HTML {
    static func rules(_ page: RulesPage, principal: Principal) -> String {
        var html = """
            <p>The fraud-scorer's rule file <code>\(escape(page.file))</code> (read again when it changes; the language: \
            docs/FRAUD.md). Edit the rules, check them: the text must parse, and the page shows what they would have done on \
            the card sales of the last days, next to the rules in force. <a href="/rules/versions">Versions</a> · <a href="/mapping">GL mapping</a>.</p>
            """
        if let problem = page.problem { html += "<p class=\"error\" id=\"rules-problem\">\(escape(problem))</p>" }
        if let running = page.checkRunning {
            // The backtest goes on after this request: the page asks again every two seconds until it has the result.
            html += """
                <meta http-equiv="refresh" content="2"><p class="notice" id="rules-running">Backtesting the rules on the last \(page.days) \
                day(s): \(running.tried) of \(running.total) closed batches read so far (then their card sales are replayed through both rule \
                sets). This page reloads itself until the backtest is done.</p>
                """
        }
        if let check = page.check {
            if let error = check.syntaxError {
                html += "<p class=\"error\" id=\"rules-verdict\">The rules cannot be saved: \(escape(error))</p>"
            } else {
                html += "<p class=\"notice\" id=\"rules-verdict\">The rules parse. Backtest on \(check.events) card sale(s) of \(check.batches) "
                    + "closed batch(es) in the last \(check.days) day(s).</p>"
                html += table(id: "rules-actions", ["Action", "Rules in force", "These rules"], check.actions.map {
                    [escape($0.action), "\($0.inForce)", "\($0.candidate)"]
                })
                html += "<h2>These rules</h2>" + table(id: "rules-candidate", ["Events its condition holds for", "Rule"],
                                                       check.candidateRules.map { ["\($0.matched)", "<code>\(escape($0.label))</code>"] })
                html += "<h2>The rules in force</h2>" + table(id: "rules-in-force", ["Events its condition holds for", "Rule"],
                                                              check.inForceRules.map { ["\($0.matched)", "<code>\(escape($0.label))</code>"] })
                if page.changed, principal.user.role >= .mapper {
                    html += """
                        <form id="rules-save-form" method="post" action="/rules/save">\
                        <input type="hidden" name="csrf" value="\(escape(principal.csrfToken ?? ""))">\
                        <input type="hidden" name="text" value="\(escape(page.text))">\
                        <p>Save these rules as a new version: <input name="why" id="rules-why" required placeholder="why (kept with the version)" \
                        aria-label="why"> <button type="submit" id="rules-save">Save the rules</button></p></form>
                        """
                }
            }
        }
        let days = [1, 7, 30, 90].map { "<option value=\"\($0)\"\($0 == page.days ? " selected" : "")>\($0)</option>" }.joined()
        html += """
            <form id="rules-form" method="get" action="/rules"><input type="hidden" name="check" value="1">
            <p><textarea name="text" id="rules-text" rows="14" cols="110" aria-label="rules">\(escape(page.text))</textarea></p>
            <p><label>Backtest on the last <select name="days" id="rules-days">\(days)</select> day(s)</label>
            <button type="submit" id="rules-check">Check and backtest</button></p></form>
            """
        return html
    }
}
