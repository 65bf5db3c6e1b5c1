import Foundation

/// The console's pages: server-rendered HTML with one stylesheet and one script, both the console's
/// own files (`StaticAsset`), so the Content-Security-Policy allows no inline script or style.
/// Every value shown is escaped; every form carries the session's CSRF token.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func url(_ part: String) -> String {
        part.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? part
    }

    static let head = "<link rel=\"stylesheet\" href=\"\(StaticAsset.stylesheet.path)\"><script src=\"\(StaticAsset.script.path)\" defer></script>"

    static func page(title: String, principal: Principal, notice: String?, body: String) -> String {
        let links = [("/pipeline", "Pipeline"), ("/dlq", "Dead letters"), ("/reviews", "Fraud review"), ("/matches", "Customer matches"),
                     ("/reconciliations", "Reconciliation"), ("/quarantine", "Quarantine"), ("/mapping", "GL mapping"), ("/rules", "Fraud rules"),
                     ("/alerts", "Alerts"), ("/audit", "Audit trail")]
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · bridge console</title>
            \(head)</head>
            <body><nav>\(links.map { "<a href=\"\($0.0)\">\($0.1)</a>" }.joined())
            <span class="who" id="who">\(escape(principal.user.name)) (\(principal.user.role.rawValue))</span>
            \(form(action: "/logout", principal: principal, fields: [:], button: "Log out", id: "logout"))</nav>
            <main><h1>\(escape(title))</h1>
            \(notice.map { "<p class=\"notice\" id=\"notice\">\(escape($0))</p>" } ?? "")
            \(body)
            </main></body></html>
            """
    }

    static func login(error: String?, next: String?) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Log in · bridge console</title>\(head)</head>
        <body><main><h1>Heartland ⇄ Sage bridge: operations console</h1>
        \(error.map { "<p class=\"error\" id=\"error\">\(escape($0))</p>" } ?? "")
        <form method="post" action="/login">
        <input type="hidden" name="next" value="\(escape(next ?? "/"))">
        <p><label>Name <input id="name" name="name" autocomplete="username" required></label></p>
        <p><label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label></p>
        <p><button id="login" type="submit">Log in</button></p>
        </form></main></body></html>
        """
    }

    /// A POST form with the CSRF token; shown to operators only (except logout). With `whyPrompt` it
    /// asks for a required `why` (recorded in the audit trail) beside the button.
    static func form(action: String, principal: Principal, fields: [String: String], button: String, id: String,
                     confirm: String? = nil, whyPrompt: String? = nil) -> String {
        let hidden = fields.sorted { $0.key < $1.key }.map { "<input type=\"hidden\" name=\"\(escape($0.key))\" value=\"\(escape($0.value))\">" }
        let confirmation = confirm.map { " data-confirm=\"\(escape($0))\"" } ?? ""  // asked by console.js
        let why = whyPrompt.map {
            "<input name=\"why\" id=\"why-\(escape(id))\" required placeholder=\"\(escape($0))\" aria-label=\"\(escape($0))\"> "
        } ?? ""
        return """
            <form class="inline" method="post" action="\(escape(action))"\(confirmation)>\
            <input type="hidden" name="csrf" value="\(escape(principal.csrfToken ?? ""))">\(hidden.joined())\(why)\
            <button type="submit" id="\(escape(id))">\(escape(button))</button></form>
            """
    }

    /// `refresh`: a JSON twin console.js reloads the rows from (the pipeline).
    static func table(id: String, refresh: String? = nil, _ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p id=\"\(id)\" class=\"empty\">Nothing here.</p>" }
        return "<table id=\"\(id)\"\(refresh.map { " data-refresh=\"\(escape($0))\"" } ?? "")><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
    }

    static func money(_ cents: Int64?) -> String {
        guard let cents else { return "" }
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        return "\(sign)\(magnitude / 100).\(String(magnitude % 100).leftPadded(to: 2))"
    }
}
