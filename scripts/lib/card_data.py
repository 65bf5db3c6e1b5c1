"""Card numbers for scripts/card-data-check: make Luhn-valid test PANs, write them into Heartland's free-text
fields in the shapes people and gateways use, and search everything the bridge keeps or shows for them.

    python3 scripts/lib/card_data.py pans OUT.json                 one PAN per channel (fixed, Luhn-valid)
    python3 scripts/lib/card_data.py search PANS.json SEEN_DIR REPORT.json PATH...
    python3 scripts/lib/card_data.py watch-queues MANAGEMENT_URL OUT_DIR STOP_FILE
    python3 scripts/lib/card_data.py watch-inbox INBOX.sqlite OUT_FILE PATTERN STOP_FILE
    python3 scripts/lib/card_data.py crawl CONSOLE_URL TOKEN OUT_DIR
    python3 scripts/lib/card_data.py capture-alerts OUT_DIR       prints "listening on URL"

`search` reads every file under each PATH (and the rows of every SQLite file, logically, so that a value split over
pages is still seen), and every file under SEEN_DIR (what the check captured: queue messages, console pages, alert
webhooks, command output). A leak is a PAN's digits 3 to n-1 in a row once JSON escapes are decoded and the
separators between digits (space, -, ., /, \\/) removed; the masked form (first six, at least one *, last four) is
counted as evidence that the channel reached that place. Exit 1 on any leak.
"""
import base64
import http.server
import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse
import urllib.request

# One PAN per channel, so a finding names the field it came from. Test numbers of the card schemes and other
# Luhn-valid numbers, 13 to 19 digits.
CHANNELS = {
    "ticket_note": "4539148803436467",
    "ticket_note_number": "4716108999716531",
    "line_description": "5141094668523477",
    "line_description_track": "4815994185660017",
    "line_description_escaped": "6011000990139424",
    "sales_rep": "378282246310005",
    "card_number_field": "4000056655665556",
    "error_body": "5105105105105100",
    "customer_name": "4039701176087",
    "customer_address": "3566002020360505",
    "customer_phone": "36735175986370",
    "customer_email": "6286454284103661",
    "item_description": "2223003122003222",
    "order_custom": "4485628023288358115",
}
# Fields the bridge reads but keeps nowhere, so their masked form cannot be required anywhere: the sync carries a
# customer's names, e-mail and phone (not the address lines), and a Sage order takes no Heartland custom field.
READ_NOT_KEPT = {"customer_address", "order_custom"}


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def grouped(pan, sep):
    """As printed on cards: 4-4-4-4 (16), 4-6-5 (15), 4-4-4-4-3 (19)..."""
    if len(pan) == 15:
        parts = [pan[:4], pan[4:10], pan[10:]]
    else:
        parts = [pan[i:i + 4] for i in range(0, len(pan), 4)]
    return sep.join(parts)


# JSON escapes, also inside JSON kept as a string in JSON (`\\u0034`: a stored event).
ESCAPE = re.compile(r"\\+u00([0-9a-fA-F]{2})")
SEPARATED = re.compile(r"(?<=\d)(?:[ \-./]|\\+/)(?=\d)")


def decoded(text):
    return ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def masked_pattern(pan):
    sep = r"(?:[ \-./]|\\+/)?"
    first = sep.join(re.escape(d) for d in pan[:6])
    last = sep.join(re.escape(d) for d in pan[-4:])
    return re.compile(first + r"[ \-./*]*\*[ \-./*]*" + last)


class Finder:
    def __init__(self, pans):
        self.pans = pans
        self.needles = {channel: pan[2:-1] for channel, pan in pans.items()}
        self.masks = {channel: masked_pattern(pan) for channel, pan in pans.items()}
        self.leaks = []
        self.evidence = {channel: set() for channel in pans}
        self.places = 0
        self.bytes = 0

    def look(self, place, text):
        self.places += 1
        self.bytes += len(text)
        unescaped = decoded(text)
        flat = SEPARATED.sub("", unescaped)
        for channel, needle in self.needles.items():
            at = flat.find(needle)
            if at >= 0:
                self.leaks.append({"place": place, "channel": channel,
                                   "context": flat[max(0, at - 60):at + 60].replace(needle, "<PAN>")})
            if self.masks[channel].search(text) or self.masks[channel].search(unescaped):
                self.evidence[channel].add(place)

    def file(self, path):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            self.leaks.append({"place": path, "channel": "-", "context": f"unreadable: {error}"})
            return
        self.look(path, data.decode("latin-1"))
        if data.startswith(b"SQLite format 3\x00"):
            self.sqlite(path)

    def sqlite(self, path):
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
                text = "\n".join(
                    "\t".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row) for row in rows)
                self.look(f"{path} (table {table})", text)
            db.close()
        except sqlite3.Error as error:
            # A file that is only a WAL or journal has no header: read above as bytes, not here.
            self.leaks.append({"place": path, "channel": "-", "context": f"SQLite file not readable: {error}"})

    def tree(self, root):
        if os.path.isfile(root):
            self.file(root)
            return
        for folder, _, names in os.walk(root):
            for name in sorted(names):
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    self.file(path)


def make_pans(out):
    for channel, pan in CHANNELS.items():
        assert 13 <= len(pan) <= 19 and luhn_ok(pan), channel
        # A needle must not be found where another channel's number, or the track data's padding, is: a leak of
        # one channel would otherwise be reported as another's (seen: a run of zeros matched track 1's padding).
        needle = pan[2:-1]
        assert not re.search(r"(\d)\1{4}", needle), channel
        assert not any(needle in other for name, other in CHANNELS.items() if name != channel), channel
    with open(out, "w") as handle:
        json.dump(CHANNELS, handle, indent=1)


def search(pans_file, seen, report_file, paths):
    finder = Finder(json.load(open(pans_file)))
    for root in [seen, *paths]:
        if os.path.exists(root):
            finder.tree(root)
    report = {
        "places_searched": finder.places,
        "bytes_searched": finder.bytes,
        "leaks": finder.leaks,
        "masked_seen": {channel: sorted(places) for channel, places in finder.evidence.items()},
    }
    with open(report_file, "w") as handle:
        json.dump(report, handle, indent=1)
    print(f"searched {finder.places} places ({finder.bytes / 1e6:.1f} MB of text)")
    for channel, places in finder.evidence.items():
        print(f"  {channel:26} masked in {len(places):3} places")
    for leak in finder.leaks:
        print(f"LEAK {leak['channel']}: {leak['place']}: …{leak['context']}…")
    return 1 if finder.leaks else 0


def management(url):
    """(base URL without credentials, Authorization header) of a management URL such as http://u:p@host:port."""
    parts = urllib.parse.urlsplit(url)
    auth = base64.b64encode(f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}".encode()).decode()
    return f"{parts.scheme}://{parts.hostname}:{parts.port}", {"Authorization": "Basic " + auth, "Content-Type": "application/json"}


def call(url, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
        return json.load(answer)


def watch_queues(management_url, out, stop_file):
    """While the flow runs: the ready messages of each queue, once per queue (a get-and-requeue counts as one
    delivery against the quorum queues' delivery limit, so each queue is read once while busy), then every queue
    holding ready messages once more at the end (parking lots, delay tiers)."""
    base, headers = management(management_url)
    os.makedirs(out, exist_ok=True)
    read = set()

    def snapshot(queue, tag):
        name = urllib.parse.quote(queue["name"], safe="")
        vhost = urllib.parse.quote(queue["vhost"], safe="")
        messages = call(f"{base}/api/queues/{vhost}/{name}/get", headers,
                        {"count": 200, "ackmode": "ack_requeue_true", "encoding": "auto", "truncate": 5000000})
        with open(os.path.join(out, f"{tag}-{queue['name']}.json"), "w") as handle:
            json.dump(messages, handle)
        return len(messages)

    def busy():
        return [q for q in call(f"{base}/api/queues?columns=name,vhost,messages_ready", headers)
                if q.get("messages_ready", 0) > 0]

    total = 0
    while not os.path.exists(stop_file):
        try:
            for queue in busy():
                if queue["name"] not in read:
                    read.add(queue["name"])
                    total += snapshot(queue, "during")
        except OSError as error:
            print(f"watch-queues: {error}", file=sys.stderr)
        time.sleep(0.3)
    for queue in busy():
        total += snapshot(queue, "after")
    print(f"read {total} messages from {len(read)} queues while busy and at the end")


def watch_inbox(database, out, pattern, stop_file):
    """From before heartland-ingest starts: every distinct error its inbox holds (a record's `last_error` lasts only
    until a retry succeeds, which can be a second), written to OUT_FILE as it was stored, so that the search reads it;
    prints "error seen: ..." the first time one contains PATTERN."""
    kept, announced = set(), False
    with open(out, "a") as handle:
        while not os.path.exists(stop_file):
            try:
                db = sqlite3.connect("file:" + database + "?mode=ro", uri=True, timeout=1)
                try:
                    rows = db.execute("SELECT last_error FROM inbox WHERE last_error IS NOT NULL").fetchall()
                finally:
                    db.close()
            except sqlite3.Error:
                rows = []   # not created yet, or busy
            for (error,) in rows:
                if error not in kept:
                    kept.add(error)
                    handle.write(error + "\n")
                    handle.flush()
                if pattern in error and not announced:
                    announced = True
                    print(f"error seen: {error}", flush=True)
            time.sleep(0.05)
    print(f"kept {len(kept)} distinct inbox errors", flush=True)


def crawl(console, token, out, limit=2000):
    """Every page and JSON answer of the console a viewer can GET, following its links from the main pages."""
    os.makedirs(out, exist_ok=True)
    headers = {"Authorization": f"Bearer {token}"}
    seeds = ["/pipeline", "/dlq", "/reviews?status=all", "/reviews/exceptions?status=all", "/matches?status=all",
             "/reconciliations", "/alerts", "/audit", "/quarantine?status=all"]
    queue = seeds + ["/api" + seed for seed in seeds]
    seen, pages, failures = set(), 0, []
    while queue and pages < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        try:
            with urllib.request.urlopen(urllib.request.Request(console + path, headers=headers), timeout=30) as answer:
                body = answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            if error.code != 404:
                failures.append(f"{path}: {error.code}")
            continue
        pages += 1
        with open(os.path.join(out, f"{pages:04d}.txt"), "w") as handle:
            handle.write(path + "\n" + body)
        for link in re.findall(r'href="(/[^"#]*)"', body):
            link = link.replace("&amp;", "&")
            if not link.startswith("//") and "logout" not in link and not link.startswith("/static"):
                queue.append(link)
                if not link.startswith("/api/"):
                    queue.append("/api" + link)
    if queue and pages >= limit:
        failures.append(f"more than {limit} pages: the crawl stopped before reading them all")
    print(f"read {pages} console pages")
    for failure in failures:
        print(f"crawl: {failure}", file=sys.stderr)
    return 1 if failures else 0


def capture_alerts(out):
    os.makedirs(out, exist_ok=True)
    count = [0]

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            count[0] += 1
            with open(os.path.join(out, f"{count[0]:04d}.json"), "wb") as handle:
                handle.write(body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Capture)
    print(f"listening on http://127.0.0.1:{server.server_port}/alerts", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "pans":
        make_pans(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "search":
        sys.exit(search(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]))
    elif len(sys.argv) == 5 and sys.argv[1] == "watch-queues":
        watch_queues(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "watch-inbox":
        watch_inbox(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "crawl":
        sys.exit(crawl(*sys.argv[2:]))
    elif len(sys.argv) == 3 and sys.argv[1] == "capture-alerts":
        capture_alerts(sys.argv[2])
    else:
        sys.exit(__doc__)
