import Accounting
import Alerter
import Foundation

extension HTML {
    static func pipeline(_ overview: PipelineOverview) -> String {
        let rows = overview.stages.map { s in
            [escape(s.stage), "\(s.ready)", "\(s.unacked)", "\(s.consumers)", rate(s.publishRate), rate(s.deliverRate), rate(s.ackRate),
             "\(s.retrying)", s.deadLettered > 0 ? "<a class=\"bad\" href=\"/dlq\">\(s.deadLettered)</a>" : "0"]
        }
        // console.js refreshes the table from the JSON twin every 5 seconds (data-refresh).
        return """
            <p>Queues as RabbitMQ's management API reports them (quorum queue depths lag by up to 5 s). Updated <span id="updated">\(escape(overview.at))</span>.</p>
            \(table(id: "pipeline", refresh: "/api/pipeline", ["Stage", "Ready", "Unacked", "Consumers", "In /s", "Delivered /s", "Acked /s", "Retrying",
                                                             "Dead letters"], rows))
            """
    }

    static func rate(_ value: Double) -> String { String(format: "%.1f", value) }

    static func deadLetters(_ stages: [StageDeadLetters], principal: Principal) -> String {
        let canAct = principal.user.role >= .operator
        return stages.map { stage -> String in
            var html = "<section id=\"dlq-\(escape(stage.stage))\"><h2>\(escape(stage.stage)).dlq: \(stage.count)\(stage.truncated ? "+" : "") message(s)</h2>"
            guard stage.count > 0 else { return html + "<p>Empty.</p></section>" }
            if principal.user.role >= ConsoleAction.purge(stage: stage.stage).requiredRole {
                html += "<p>" + form(action: "/dlq/\(url(stage.stage))/purge", principal: principal, fields: [:], button: "Purge \(stage.stage).dlq",
                                     id: "purge-\(stage.stage)", confirm: "Delete every parked message of \(stage.stage) for good?") + "</p>"
            }
            html += table(id: "groups-\(escape(stage.stage))", ["Count", "Class", "Reason", ""], stage.groups.enumerated().map { index, group in
                [String(group.count), escape(group.errorClass), escape(group.lastError),
                 canAct ? form(action: "/dlq/\(url(stage.stage))/replay", principal: principal,
                               fields: ["error_class": group.errorClass, "last_error": group.lastError],
                               button: "Replay \(group.count)", id: "replay-group-\(stage.stage)-\(index)") : ""]
            })
            html += table(id: "messages-\(escape(stage.stage))", ["Message", "Idempotency key", "Attempt", "First failed", "Replays", "Reason", ""],
                          stage.messages.map { m in
                [
                    "<a href=\"/dlq/\(url(stage.stage))/\(url(m.messageId))\">\(escape(m.messageId))</a>", escape(m.idempotencyKey ?? ""),
                    String(m.attempt), escape(m.firstFailedAt ?? ""), String(m.replayCount), escape(String(m.lastError.prefix(120))),
                    canAct ? form(action: "/dlq/\(url(stage.stage))/replay", principal: principal, fields: ["message_id": m.messageId],
                                  button: "Replay", id: "replay-\(m.messageId)") : "",
                ]
            })
            return html + "</section>"
        }.joined()
    }

    static func deadLetter(_ detail: DeadLetterDetail, principal: Principal) -> String {
        let m = detail.summary
        var html = "<p>Parked in <a href=\"/dlq\">\(escape(detail.stage)).dlq</a>; \(escape(m.errorClass)): \(escape(m.lastError))</p>"
        if principal.user.role >= .operator {
            html += "<p>" + form(action: "/dlq/\(url(detail.stage))/replay", principal: principal, fields: ["message_id": m.messageId],
                                 button: "Replay to \(m.failedStage ?? detail.stage)", id: "replay-\(m.messageId)") + "</p>"
        }
        html += table(id: "headers", ["Header", "Value"],
                      [["message_id", escape(m.messageId)], ["correlation_id", escape(m.correlationId)], ["type", escape(m.routingKey)]]
                      + detail.headers.sorted { $0.key < $1.key }.map { [escape($0.key), escape($0.value)] })
        return html + "<h2>Body</h2><pre id=\"body\">\(escape(detail.body))</pre>"
    }

    /// The held documents, then the fraud exceptions (`HTML+FraudExceptions.swift`).
    static func reviews(_ rows: [ReviewRow], status: String, exceptions: [ExceptionRow], principal: Principal) -> String {
        let filters = ["held", "approved", "rejected", "all"].map { $0 == status ? "<b>\($0)</b>" : "<a href=\"/reviews?status=\($0)\">\($0)</a>" }
        return "<h2>Held documents</h2><p>Show: \(filters.joined(separator: " · "))</p>"
            + table(id: "reviews", ["Review", "Status", "Reference", "Store", "Held at", "Why held", "Decided by", "Why"], rows.map { r in
                ["<a href=\"/reviews/\(r.id)\">\(r.id)</a>", escape(r.status), escape(r.reference), escape(r.storeId ?? ""), escape(r.heldAt),
                 escape(r.reasons.joined(separator: "; ")), escape(r.decidedBy ?? ""), escape(r.decidedWhy ?? "")]
            })
            + exceptionsSection(exceptions, principal: principal)
    }

    static func review(_ detail: ReviewDetail, principal: Principal) -> String {
        let r = detail.review
        var html = """
            <p>Status: <b id="review-status">\(escape(r.status))</b>\(r.decidedBy.map { " by \(escape($0)): \(escape(r.decidedWhy ?? ""))" } ?? "")</p>
            <p>\(escape(r.reference))\(detail.postingDate.map { ", posting date \(escape($0))" } ?? ""), store \(escape(r.storeId ?? "-")). \
            \(escape(detail.description ?? ""))</p>
            <h2>Why it was held</h2><ul>\(r.reasons.map { "<li>\(escape($0))</li>" }.joined())</ul>
            <h2>The journal it would post</h2>
            """
        html += table(id: "lines", ["Account", "Description", "Side", "Amount"],
                      detail.lines.map { [escape($0.account), escape($0.description), escape($0.side), "<span class=\"num\">\(escape($0.amount))</span>"] })
        if let refund = detail.refund { html += refundEvidence(refund) }
        if r.status == "held" && principal.user.role >= .operator {
            html += """
                <form method="post" id="decision">
                <input type="hidden" name="csrf" value="\(escape(principal.csrfToken ?? ""))">
                <p><label>Why (recorded in the audit trail)<br><textarea id="why" name="why" rows="3" cols="60" required></textarea></label></p>
                \(principal.user.role >= ConsoleAction.approve(review: r.id).requiredRole
                    ? "<button type=\"submit\" id=\"approve\" formaction=\"/reviews/\(r.id)/approve\">Approve and release to the loaders</button>" : "")
                <button type="submit" id="reject" formaction="/reviews/\(r.id)/reject">Reject (never post)</button>
                </form>
                """
        }
        return html
    }

    static func reconciliations(_ days: [ReconciliationDay]) -> String {
        guard !days.isEmpty else { return "<p id=\"reconciliations\">No reconciliation reports yet.</p>" }
        return days.map { day in
            "<section id=\"day-\(escape(day.date))\"><h2><a href=\"/reconciliations?date=\(url(day.date))\">\(escape(day.date))</a>: "
                + "\(day.matched) matched, <span class=\"\(day.mismatched > 0 ? "bad" : "")\">\(day.mismatched) mismatched</span>, \(day.incomplete) incomplete</h2>"
                + table(id: "reports-\(escape(day.date))", ["Reference", "Store", "Batch", "Status", "Differences", "Why"], day.reports.map { r in
                    ["<a href=\"/reconciliations/\(url(r.reference))\">\(escape(r.reference))</a>", escape(r.storeId), escape(r.batchId ?? ""),
                     "<span class=\"\(r.status == "matched" ? "ok" : "bad")\">\(escape(r.status))</span>", String(r.differences), escape(r.reason ?? "")]
                }) + "</section>"
        }.joined()
    }

    static func reconciliation(_ report: ReconciliationReport) -> String {
        var html = "<p>Store \(escape(report.storeID.rawValue)), business day <a href=\"/reconciliations?date=\(url(report.businessDate.iso))\">"
            + "\(escape(report.businessDate.iso))</a>, batch \(escape(report.batchID?.rawValue ?? "-")): "
            + "<b id=\"status\" class=\"\(report.status == .matched ? "ok" : "bad")\">\(report.status.rawValue)</b>"
            + "\(report.reason.map { " (\(escape($0)))" } ?? "")</p>"
        if let totals = report.heartlandTotals {
            html += "<p>Heartland: \(totals.transactionCount) card transactions, sales \(money(totals.sales.minorUnits)).</p>"
        }
        html += table(id: "lines", ["Check", "Label", "Account", "Expected", "Sage", "Difference"], report.lines.map { line in
            [escape(line.check.rawValue), escape(line.label), escape(line.account.rawValue), money(line.expectedCents), money(line.sageCents),
             "<span class=\"\(line.isMatched ? "ok" : "bad")\">\(line.differenceCents.map { money($0) } ?? "missing")</span>"]
        })
        if let refunds = report.refunds, !refunds.isEmpty {
            html += "<h3>Posted apart: card refunds, the batch's other days, corrected tickets</h3>"
            html += table(id: "refunds", ["Reference", "Return ticket", "Refunded", "Status", "Where"], refunds.map { refund in
                [escape(refund.reference), escape(refund.ticket), money(refund.amountCents),
                 "<span class=\"\(refund.status == .posted ? "ok" : "bad")\">\(escape(refund.status.rawValue))</span>", escape(refund.detail ?? "")]
            })
        }
        if let documents = report.receivables, !documents.isEmpty {
            html += "<h3>Sage AR: the on-account tickets' documents</h3>"
            html += table(id: "receivables", ["Document", "Number", "Ticket", "Customer (day)", "Customer (Sage)", "Amount (day)", "Amount (Sage)", "Status"],
                          documents.map { document in
                [escape(document.kind.rawValue), escape(document.documentNumber), escape(document.ticket ?? "-"), escape(document.expectedCustomer ?? "-"),
                 escape(document.sageCustomer ?? "-"), money(document.expectedCents), money(document.sageCents),
                 "<span class=\"\(document.status == .matched ? "ok" : "bad")\">\(escape(document.status.words))</span>"]
            })
        }
        if let held = report.quarantined, !held.isEmpty {
            html += "<h3>Tickets set aside</h3>"
            html += table(id: "quarantined", ["Ticket", "Id", "Field", "Amount per account", "Status", "Posted as"], held.map { document in
                [escape(document.number ?? "-"), escape(document.documentId), escape(document.field),
                 escape(document.netByAccount.map { net in net.keys.sorted().map { "\($0) \(Money.decimalString(net[$0]!))" }.joined(separator: ", ") }
                     ?? "unreadable"),
                 "<span class=\"\(document.status == .posted ? "ok" : "bad")\">\(escape(document.status.rawValue))</span>", escape(document.reference ?? "")]
            })
        }
        return html
    }

    /// Documents the transformer set aside, with the field and the reason (card numbers masked).
    static func quarantine(_ rows: [QuarantineRow]) -> String {
        guard !rows.isEmpty else { return "<p id=\"quarantine\">No document is set aside.</p>" }
        return "<p>Correct the ticket in Heartland, then <code>bridgectl quarantine replay STORE ID</code>: it posts in a supplementary "
            + "journal on its own business day.</p>"
            + table(id: "quarantine", ["Status", "Store", "Ticket", "Id", "Batch", "Field", "Reason", "Set aside", "Posted as"], rows.map { row in
                ["<span class=\"\(row.status == "posted" ? "ok" : "bad")\">\(escape(row.status))</span>", escape(row.store), escape(row.number ?? "-"),
                 escape(row.documentId), escape(row.batchId ?? "-"), escape(row.field), escape(row.reason), escape(row.quarantinedAt),
                 escape(row.postedAs ?? "")]
            })
    }

    static func alerts(_ alerts: [AlertRow], principal: Principal) -> String {
        table(id: "alerts", ["Severity", "Stage", "Kind", "Reason", "Count", "First seen", "Last seen", "Acknowledged"], alerts.enumerated().map { index, a in
            [escape(a.severity), escape(a.stage), escape(a.kind), escape(a.reason), String(a.count), escape(a.firstSeen), escape(a.lastSeen),
             a.acknowledgedBy.map { "\(escape($0)) at \(escape(a.acknowledgedAt ?? ""))" }
                ?? (principal.user.role >= .operator
                    ? form(action: "/alerts/acknowledge", principal: principal, fields: ["fingerprint": a.fingerprint], button: "Acknowledge",
                           id: "ack-\(index)") : "")]
        })
    }

    static func audit(_ trail: [OperationsStore.AuditEntry]) -> String {
        table(id: "audit", ["At", "Event", "Stage", "Actor", "Detail"], trail.map {
            [escape($0.at), escape($0.event), escape($0.stage), escape($0.actor ?? ""), escape($0.detail)]
        })
    }
}
