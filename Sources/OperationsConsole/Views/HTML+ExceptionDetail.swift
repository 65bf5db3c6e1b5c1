import Foundation

/// One fraud exception on its own page (`/reviews/exceptions/E<n>`): the facts, every reason, the acknowledgement and
/// its audit records, and the related transactions; a held refund's sale and related transactions on its review page.
extension HTML {
    static func exceptionDetail(_ detail: ExceptionDetail, principal: Principal) -> String {
        let e = detail.exception
        var html = "<p><a href=\"/reviews/exceptions\">All exceptions</a> · <a href=\"/reviews\">the review queue</a></p>"
        html += "<p>Status: <b id=\"exception-status\">\(escape(e.status))</b>"
            + (e.acknowledgedBy.map { " by \(escape($0)) at \(escape(e.acknowledgedAt ?? "")): \(escape(e.acknowledgedWhy ?? ""))" } ?? "") + "</p>"
        if e.status == "open" && principal.user.role >= ConsoleAction.acknowledgeException(e.id).requiredRole {
            html += "<p>" + form(action: "/reviews/exceptions/\(url(e.id))/acknowledge", principal: principal, fields: ["back": "exception"],
                                 button: "Acknowledge", id: "ack-\(e.id)", whyPrompt: "why (audit trail)") + "</p>"
        }
        html += "<h2>The transaction</h2>" + facts(detail)
        html += "<h2>Why it was flagged</h2><p>Risk score <span class=\"num\">\(e.riskScore)/100</span>, "
            + "\(e.decidedBy.map { "decided by \(escape($0))" } ?? "no deciding rule recorded")</p>"
            + "<ul id=\"reasons\">" + e.reasons.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
            + ruleFeatures(detail.ruleFeatures)
        html += "<h2>Evidence: related transactions</h2>" + evidence(detail)
        html += "<h2>History</h2>" + table(id: "history", ["At", "Event", "By", "Detail"], detail.history.map { h in
            [escape(h.at), escape(h.event), escape(h.actor ?? h.stage), escape(h.detail)]
        })
        return html
    }

    private static func ruleFeatures(_ features: [RuleFeature]) -> String {
        guard !features.isEmpty else {
            return "<p class=\"empty\" id=\"rule-features\">No feature values were kept with this exception (a list or the risk score decided, "
                + "or it was raised before they were kept); the model's reasons and the card-testing count carry theirs.</p>"
        }
        return "<p>What the rule looked at, as the scorer saw it:</p>"
            + table(id: "rule-features", ["Feature", "Value", "In words"], features.map { f in
                [escape(f.name), "<span class=\"num\">\(escape(String(format: "%g", f.value)))</span>", escape(f.words)]
            })
    }

    private static func facts(_ detail: ExceptionDetail) -> String {
        let e = detail.exception, t = detail.transaction
        let rows: [(String, String)] = [
            ("Exception", e.id), ("Sale", e.sale), ("Transaction", e.transactionId), ("Reference", e.reference),
            ("Amount", e.amount), ("Card", t?.card ?? e.cardToken ?? ""), ("Store", e.storeId),
            ("Terminal / station", t?.terminal ?? ""), ("Clerk", t?.clerk ?? ""), ("Local time", t?.localTime ?? ""),
            ("At (UTC)", t?.at ?? ""), ("Kind", t?.kind ?? ""), ("Raised at", e.raisedAt),
        ]
        return factsTable(id: "facts", rows)
    }

    /// A label and a value a row, the empty ones left out.
    private static func factsTable(id: String, _ rows: [(String, String)]) -> String {
        "<table id=\"\(id)\"><tbody>" + rows.filter { !$0.1.isEmpty }.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined()
            + "</tbody></table>"
    }

    private static func evidence(_ detail: ExceptionDetail) -> String {
        if let missing = detail.evidenceMissing { return "<p class=\"empty\" id=\"evidence-missing\">\(escape(missing))</p>" }
        var html = "<p>From the fraud-scorer's feature store (what it scored with), as it stands now.</p>"
        if let hours = detail.storeHours {
            html += "<p id=\"store-hours\">The store's hours: <b>\(escape(hours))</b> (its own clock).</p>"
        }
        return html + evidenceTables(findings: detail.findings, detail.evidence)
    }

    /// What the evidence shows in words, then a table per group, the flagged transaction marked.
    private static func evidenceTables(findings: [String], _ groups: [EvidenceGroup]) -> String {
        var html = findings.isEmpty ? "" : "<ul id=\"findings\">" + findings.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        for group in groups {
            html += "<h3>\(escape(group.title))</h3>"
            html += table(id: group.id, ["Transaction", "Kind", "Amount", "Card", "Terminal", "Clerk", "Keyed", "Local time", "At (UTC)"],
                          group.rows.map { r in
                [(r.flagged ? "<b>this one: </b>" : "") + escape(r.id), escape(r.kind), "<span class=\"num\">\(escape(r.amount))</span>",
                 escape(r.card ?? ""), escape(r.terminal), escape(r.clerk ?? ""), r.keyed ? "keyed" : "", escape(r.localTime ?? r.localDay), escape(r.at)]
            })
            if group.truncated { html += "<p>Only the first \(ExceptionDetail.evidenceLimit) are shown.</p>" }
        }
        return html
    }

    /// A held refund's review page: the sale it returns as Heartland has it, and the related transactions.
    static func refundEvidence(_ r: RefundEvidence) -> String {
        let facts: [(String, String)] = [
            ("Refund", r.transactionId), ("Return ticket", r.returnTicket), ("Refunded", r.refunded), ("To card", r.refundCard ?? ""),
            ("Local time", r.transaction?.localTime ?? ""), ("Terminal / station", r.transaction?.terminal ?? ""),
            ("Clerk", r.transaction?.clerk ?? ""), ("Original ticket", r.originalTicket ?? "none named"),
            ("Original total", r.originalAmount ?? ""), ("Refunded before", r.earlierRefunded), ("Sale paid", r.saleTenders),
            ("Sale cards", r.saleCards.joined(separator: ", ")), ("Problems", r.problems.joined(separator: "; ")),
        ]
        let html = "<h2>The refund and its sale</h2>" + factsTable(id: "refund-facts", facts) + "<h2>Evidence: related transactions</h2>"
        if let missing = r.evidenceMissing { return html + "<p class=\"empty\" id=\"evidence-missing\">\(escape(missing))</p>" }
        return html + evidenceTables(findings: r.findings, r.evidence)
    }
}
