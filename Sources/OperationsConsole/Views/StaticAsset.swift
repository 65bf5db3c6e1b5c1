import Foundation

/// The console's only script and stylesheet, served at `/static/…` without a session (they hold no
/// data). Kept in the binary rather than as package resources, so the executable needs no files
/// beside it. The Content-Security-Policy (`ConsoleResponse.securityHeaders`) allows these and no
/// inline script, inline style or event-handler attribute; `AccessTests` checks every page for them.
enum StaticAsset: CaseIterable {
    case script, stylesheet

    init?(path: String) {
        guard let asset = Self.allCases.first(where: { $0.path == path }) else { return nil }
        self = asset
    }

    var path: String {
        switch self {
        case .script: "/static/console.js"
        case .stylesheet: "/static/console.css"
        }
    }

    var response: ConsoleResponse {
        let (type, body) = switch self {
        case .script: ("text/javascript; charset=utf-8", Self.scriptText)
        case .stylesheet: ("text/css; charset=utf-8", Self.styleText)
        }
        return ConsoleResponse(status: 200, headers: ["Content-Type": type, "Cache-Control": "no-cache"], body: Array(body.utf8))
    }

    /// Forms with `data-confirm` ask first; a table with `data-refresh` (the pipeline) reloads its rows
    /// from its JSON twin every 5 seconds.
    static let scriptText = """
        document.addEventListener('submit', event => {
          const message = event.target.dataset && event.target.dataset.confirm;
          if (message && !window.confirm(message)) event.preventDefault();
        });
        document.addEventListener('DOMContentLoaded', () => {
          const table = document.querySelector('table[data-refresh]');
          if (!table) return;
          setInterval(async () => {
            const response = await fetch(table.dataset.refresh, {headers: {Accept: 'application/json'}});
            if (!response.ok) return;
            const overview = await response.json();
            const body = table.querySelector('tbody');
            if (!body) return;
            body.replaceChildren(...overview.stages.map(s => {
              const row = document.createElement('tr');
              for (const value of [s.stage, s.ready, s.unacked, s.consumers, s.publishRate.toFixed(1), s.deliverRate.toFixed(1),
                                   s.ackRate.toFixed(1), s.retrying, s.deadLettered]) {
                const cell = document.createElement('td'); cell.textContent = value; row.appendChild(cell);
              }
              return row;
            }));
            const updated = document.getElementById('updated');
            if (updated) updated.textContent = overview.at;
          }, 5000);
        });
        """

    static let styleText = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1d2330}
        nav{background:#1d2330;padding:.6em 1em;display:flex;gap:1.2em;align-items:center}
        nav a{color:#fff;text-decoration:none} nav .who{margin-left:auto;color:#c8cfdc}
        main{padding:1em 1.5em} table{border-collapse:collapse;margin:.5em 0 1.5em}
        th,td{border-bottom:1px solid #dde2ea;padding:.3em .7em;text-align:left;vertical-align:top}
        th{background:#f2f4f8} .num{text-align:right} .notice{background:#e6f4ea;padding:.5em 1em}
        .error{background:#fdecea;padding:.5em 1em} .bad{color:#b3261e;font-weight:600} .ok{color:#1e7b34}
        pre{background:#f6f8fa;padding:1em;overflow:auto;max-width:100%} form.inline{display:inline}
        button{cursor:pointer} .sides{display:flex;gap:2em} .side{flex:1}
        """
}
