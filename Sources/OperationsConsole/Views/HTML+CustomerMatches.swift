import Alerter
import Foundation
import PipelineContracts

/// `/matches` and `/matches/ID`: uncertain customer matches of the two-way sync.
extension HTML {
    static func customerMatches(_ items: [CustomerReviewStore.Item], status: String) -> String {
        let filters = ["open", "decided", "all"].map { $0 == status ? "<b>\($0)</b>" : "<a href=\"/matches?status=\($0)\">\($0)</a>" }
        let rows = items.map { item -> [String] in
            let names = Set(item.records.map(\.name)).sorted().joined(separator: " / ")
            return ["<a href=\"/matches/\(url(item.reviewId))\">\(escape(item.reviewId))</a>", escape(names), escape(item.status),
                    escape(item.verdict.map { $0 == .same ? "same person" : "different people" } ?? ""), escape(item.decidedBy ?? ""),
                    "\(item.held.count)", escape(item.firstSeen)]
        }
        return """
            <p>Customers the sync could not place: they may already exist on the other side. Nothing was created or changed for them. \
            Show: \(filters.joined(separator: " · "))</p>
            """ + table(id: "matches", ["Review", "Names", "Status", "Decision", "By", "Held commands", "Since"], rows)
    }

    static func customerMatch(_ item: CustomerReviewStore.Item, principal: Principal) -> String {
        let sides = [("Heartland", "heartland"), ("Sage", "sage")]
        let multiple = sides.contains { side in item.records.filter { $0.side == side.1 }.count > 1 }
        let canAct = principal.user.role >= .operator && item.status == "open"
        var columns = ""
        for (title, side) in sides {
            let records = item.records.filter { $0.side == side }
            let cards = records.map { record -> String in
                let pick = multiple && canAct
                    ? "<label><input type=\"radio\" form=\"same-form\" name=\"\(side)\" value=\"\(escape(record.number))\" required> this one</label>" : ""
                return """
                    <table class="record" id="record-\(escape(side))-\(escape(record.number))">\
                    <tr><th>\(title) customer</th><td>\(escape(record.number)) \(pick)</td></tr>\
                    <tr><th>Name</th><td>\(escape(record.name))</td></tr>\
                    <tr><th>E-mail</th><td>\(escape(record.email ?? "—"))</td></tr>\
                    <tr><th>Phone</th><td>\(escape(record.phone ?? "—"))</td></tr>\
                    <tr><th>Evidence</th><td>\(escape(record.evidence ?? "the customer being synced"))</td></tr></table>
                    """
            }
            columns += "<div class=\"side\"><h2>\(title)</h2>\(cards.joined())</div>"
        }
        var html = "<div class=\"sides\" id=\"sides\">\(columns)</div>"
        html += "<h2>Why a person must decide</h2><ul id=\"reasons\">" + item.reasons.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        html += "<p>Held: " + item.held.map { escape("\($0.routingKey) \($0.idempotencyKey)") }.joined(separator: "; ") + "</p>"
        if item.status == "decided" {
            html += "<p id=\"decision\">Decided <b>\(item.verdict == .same ? "the same person" : "different people")</b> by \(escape(item.decidedBy ?? "")) "
                + "at \(escape(item.decidedAt ?? ""))\(item.why.map { ": " + escape($0) } ?? "").</p>"
        } else if canAct {
            let action = "/matches/\(url(item.reviewId))"
            html += """
                <form id="same-form" class="inline" method="post" action="\(escape(action))/same">\
                <input type="hidden" name="csrf" value="\(escape(principal.csrfToken ?? ""))">\
                <input name="why" placeholder="why (optional, audit trail)"> \
                <button type="submit" id="same">Same person: link them</button></form>
                \(form(action: action + "/different", principal: principal, fields: [:], button: "Different people: create the customer", id: "different"))
                """
        }
        return html
    }
}
