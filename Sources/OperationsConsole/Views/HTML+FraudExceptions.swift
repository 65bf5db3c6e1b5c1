import Foundation

/// Fraud exceptions on the review page and on their own page (`/reviews/exceptions`).
extension HTML {
    /// How many acknowledged exceptions the review page shows (newest first); the rest are a link away.
    static let acknowledgedExceptionsShown = 50

    /// The review page's section: every open exception, with an Acknowledge form for operators, then
    /// the latest acknowledged ones.
    static func exceptionsSection(_ exceptions: [ExceptionRow], principal: Principal) -> String {
        let open = exceptions.filter { $0.status == "open" }
        let acknowledged = exceptions.filter { $0.status == "acknowledged" }.reversed()
        var html = """
            <section id="exceptions"><h2>Fraud exceptions: \(open.count) open</h2>
            <p>Card sales the rules sent to review in batches that posted anyway (the money had moved, so nothing is held). \
            Look at each and acknowledge it once, saying why. <a href="/reviews/exceptions">All exceptions</a></p>
            """
        html += openExceptions(open, principal: principal)
        html += "<h3>Acknowledged (latest \(min(acknowledged.count, acknowledgedExceptionsShown)) of \(acknowledged.count))</h3>"
        html += acknowledgedExceptions(Array(acknowledged.prefix(acknowledgedExceptionsShown)))
        if acknowledged.count > acknowledgedExceptionsShown {
            html += "<p><a href=\"/reviews/exceptions?status=acknowledged\">All \(acknowledged.count) acknowledged exceptions</a></p>"
        }
        return html + "</section>"
    }

    /// `/reviews/exceptions?status=open|acknowledged|all`: the whole list, oldest first.
    static func fraudExceptions(_ exceptions: [ExceptionRow], status: String, principal: Principal) -> String {
        let filters = ["open", "acknowledged", "all"].map {
            $0 == status ? "<b>\($0)</b>" : "<a href=\"/reviews/exceptions?status=\($0)\">\($0)</a>"
        }
        var html = "<p>Show: \(filters.joined(separator: " · ")) · <a href=\"/reviews\">back to the review queue</a></p>"
        if status != "acknowledged" { html += "<h2>Open</h2>" + openExceptions(exceptions.filter { $0.status == "open" }, principal: principal) }
        if status != "open" { html += "<h2>Acknowledged</h2>" + acknowledgedExceptions(exceptions.filter { $0.status == "acknowledged" }) }
        return html
    }

    private static func openExceptions(_ exceptions: [ExceptionRow], principal: Principal) -> String {
        let canAct = principal.user.role >= .operator
        return table(id: "exceptions-open", ["Exception", "Sale", "Amount", "Card", "Store", "Risk", "Why flagged", "Reference", "Raised at", ""],
                     exceptions.map { e in
            sale(e) + [canAct ? form(action: "/reviews/exceptions/\(url(e.id))/acknowledge", principal: principal, fields: [:],
                                     button: "Acknowledge", id: "ack-\(e.id)", whyPrompt: "why (audit trail)") : ""]
        })
    }

    private static func acknowledgedExceptions(_ exceptions: [ExceptionRow]) -> String {
        table(id: "exceptions-acknowledged",
              ["Exception", "Sale", "Amount", "Card", "Store", "Risk", "Why flagged", "Reference", "Raised at", "Acknowledged by", "Why", "At"],
              exceptions.map { e in sale(e) + [escape(e.acknowledgedBy ?? ""), escape(e.acknowledgedWhy ?? ""), escape(e.acknowledgedAt ?? "")] })
    }

    private static func sale(_ e: ExceptionRow) -> [String] {
        let why = e.reasons.joined(separator: "; ") + (e.decidedBy.map { " (decided by \($0))" } ?? "")
        return ["<a href=\"/reviews/exceptions/\(url(e.id))\">\(escape(e.id))</a>", escape(e.sale), "<span class=\"num\">\(escape(e.amount))</span>", escape(e.cardToken ?? ""), escape(e.storeId),
                "<span class=\"num\">\(e.riskScore)/100</span>", escape(why), escape(e.reference),
                escape(e.raisedAt)]
    }
}
