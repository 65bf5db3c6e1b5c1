"""The measuring half of scripts/bench-storeday (sourced by nothing; run as `python3 scripts/lib/storeday.py COMMAND …`).

Every command reads and writes files in the bench's folder (BENCH, e.g. var/bench-storeday/bench):
  processes STATE NODE_DIR PID...   names the processes the bench started (and the RabbitMQ node) → processes.json
  idle STATE DEADLINE               waits until the pipeline is idle (work queues empty, nothing pending in the ingest
                                    inbox, the workers' CPU quiet), then records every process's VmRSS → idle.json
  close STATE URL DAY POLL DEADLINE closes the open batches (heartland-sim's admin endpoint), polls the operations
                                    store every POLL seconds until each batch's reconciliation is recorded as matched,
                                    then `bridgectl report reconciliation` confirms each is posted and matched → closed.json (with every process's CPU time at close and at reconciled)
  stages STATE DEADLINE             when each stage had the batch, from what the processes record → stages.json
  table STATE COMMAND               the figures → stdout

Times: the bench's own clock (time.time()) for the close and the poll; the processes' records otherwise (the ingest inbox's
received_at / published_at and its kept event's built_at, the hop records the alerter keeps in traces.sqlite — `at` is when
the stage finished a message, `duration_ms` how long its handler took — and the reconciliation's recorded_at in the
operations store). All on the same machine clock.
"""
import datetime
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
WORK_QUEUES = ("transformer", "fraud-scorer", "sage-loader", "alerter", "heartland-loader")


def bench_dir(state):
    path = os.path.join(state, "bench")
    os.makedirs(path, exist_ok=True)
    return path


def load(state, name):
    with open(os.path.join(bench_dir(state), name)) as f:
        return json.load(f)


def save(state, name, value):
    with open(os.path.join(bench_dir(state), name), "w") as f:
        json.dump(value, f, indent=1)


def ts(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def pss_kb(pid):
    """The process's proportional set size in kB (its shared library pages divided among the processes that map them)."""
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def status_kb(pid, field):
    """VmRSS / VmHWM of a process in kB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU time of a process so far (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return None


def alive(processes):
    dead = [p for p in processes if cpu_seconds(p["pid"]) is None]
    if dead:
        sys.exit("a process the bench started has exited: " + ", ".join(f"{p['name']} (pid {p['pid']})" for p in dead))


def bridgectl(*args):
    return subprocess.run([os.path.join(os.environ["bin"], "bridgectl"), *args], capture_output=True, text=True, timeout=60)


# MARK: processes

def processes(state, node_dir, pids):
    named, counts = [], {}
    for pid in pids:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        name = os.path.basename(argv[0].decode())
        counts[name] = counts.get(name, 0) + 1
        named.append({"name": name, "pid": int(pid), "kind": "simulator" if name in ("heartland-sim", "sage-pro-sim") else "worker"})
    for p in named:  # sage-loader-1, sage-loader-2 when there are several
        if counts[p["name"]] > 1:
            counts.setdefault(p["name"] + "#", 0)
            counts[p["name"] + "#"] += 1
            p["name"] = f"{p['name']}-{counts[p['name'] + '#']}"
    try:
        with open(os.path.join(node_dir, "node.pid")) as f:
            named.append({"name": "rabbitmq (beam.smp)", "pid": int(f.read().strip()), "kind": "broker"})
    except (OSError, ValueError):
        pass
    save(state, "processes.json", named)


# MARK: idle

def pipeline_busy(state):
    """What is still in flight, in words (empty: nothing)."""
    busy = []
    answer = bridgectl("status", "--json")
    if answer.returncode != 0:
        return ["bridgectl status failed: " + answer.stderr.strip()[:200]]
    for q in json.loads(answer.stdout):
        if q["queue"] in WORK_QUEUES and q["ready"] + q["unacked"] > 0:
            busy.append(f"{q['queue']}: {q['ready'] + q['unacked']}")
    try:
        db = sqlite3.connect(f"file:{state}/heartland-ingest.sqlite?mode=ro", uri=True, timeout=5)
        pending = db.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]
        if pending:
            busy.append(f"ingest inbox: {pending} pending")
    except sqlite3.Error as error:
        busy.append(f"ingest inbox: {error}")
    return busy


REST_SECONDS = 12


def idle(state, deadline):
    """Idle: the work queues empty and nothing pending in the inbox, then the workers together under 5 % of a core
    over REST_SECONDS (the pollers keep them from 0: sage-ingest every second, the gateway feed every 5 s). 12 s: a
    worker gives back what it kept for speed 5–10 s after its work (RestingMemory, a rest of 5 s by default), so the
    figures are those of workers at rest; until 2026-12-06 (session 33) the window was 2 s."""
    procs = load(state, "processes.json")
    workers = [p for p in procs if p["kind"] == "worker"]
    started, until = time.time(), time.time() + deadline
    quiet_since, last = None, None
    while True:
        alive(procs)
        busy = pipeline_busy(state)
        cpu = sum(cpu_seconds(p["pid"]) or 0 for p in workers)
        now = time.time()
        if busy:
            quiet_since, last = None, None
        elif last is None:
            quiet_since, last = now, cpu
        elif now - quiet_since >= REST_SECONDS:
            share = (cpu - last) / (now - quiet_since)
            if share < 0.05:
                break
            quiet_since, last = now, cpu
        if now > until:
            sys.exit(f"not idle {deadline}s after the workers started: {', '.join(busy) or 'CPU busy'}")
        time.sleep(0.2)
    waited = time.time() - started
    try:  # a second wait (after approving held refunds) adds to the first
        waited += load(state, "idle.json")["waited"]
    except OSError:
        pass
    db = sqlite3.connect(f"file:{state}/heartland-ingest.sqlite?mode=ro", uri=True, timeout=5)
    forwarded = dict(db.execute("SELECT kind, COUNT(*) FROM inbox WHERE status = 'published' GROUP BY kind").fetchall())
    save(state, "idle.json", {"waited": waited, "forwarded_before_close": forwarded,
                              "rss_kb": {p["name"]: status_kb(p["pid"], "VmRSS") for p in procs},
                              "anon_kb": {p["name"]: status_kb(p["pid"], "RssAnon") for p in procs},
                              "pss_kb": {p["name"]: pss_kb(p["pid"]) for p in procs},
                              "cpu": {p["name"]: cpu_seconds(p["pid"]) for p in procs}})


# MARK: close → reconciled

def reconciled(day, batch_ids, ops):
    """(done, states): each batch's report has Sage's figures on every line and is matched."""
    answer = bridgectl("report", "reconciliation", "--date", day, "--format", "json", "--store", ops)
    if answer.returncode != 0:
        return False, {}
    reports = {}
    for r in json.loads(answer.stdout):
        b = r.get("batchID")
        reports[b.get("rawValue") if isinstance(b, dict) else b] = r
    states = {}
    for b in batch_ids:
        r = reports.get(b)
        if r is None:
            states[b] = "no report"
        elif any(line.get("sageCents") is None for line in r["lines"]):
            states[b] = r["status"] + " (not in Sage yet)"
        else:
            states[b] = r["status"]
    return all(s == "matched" for s in states.values()), states


def recorded_matched(store, batch_ids):
    """Whether the operations store holds a matched reconciliation of every batch."""
    if store is None:
        return False
    try:
        rows = store.execute("SELECT status, report FROM reconciliation").fetchall()
    except sqlite3.Error:
        return False  # not created yet, or busy
    matched = set()
    for status, report in rows:
        b = json.loads(report).get("batchID")
        b = b.get("rawValue") if isinstance(b, dict) else b
        if status == "matched":
            matched.add(b)
    return all(b in matched for b in batch_ids)


def close(state, url, day, poll, deadline):
    procs = load(state, "processes.json")
    cpu_before = {p["name"]: cpu_seconds(p["pid"]) for p in procs}
    load_before = open("/proc/loadavg").read().split()[:3]
    # --transformer-backlog: the transformer stopped (SIGSTOP) from before the close until heartland-ingest has published
    # every batch event, so that it finds them all waiting, as after a restart: what a backlog of large events costs it.
    held = next((p for p in procs if p["name"] == "transformer"), None) if os.environ.get("hold_transformer") else None
    released_at = None
    if held:
        os.kill(held["pid"], signal.SIGSTOP)
    closed_at = time.time()
    request = urllib.request.Request(url + "/admin/batches/close", data=b"{}", headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as answer:
        closed = json.load(answer)["closed"]
    answered_at = time.time()
    batch_ids = [b["id"] for b in closed]
    print(f"closed {len(batch_ids)} batch(es): {' '.join(batch_ids)}", file=sys.stderr)
    ops = os.path.join(state, "operations.sqlite")
    until, polls, last_report, states, seen_at, failure = closed_at + deadline, 0, closed_at, {}, None, None
    store = None
    # Each process's resident memory at every poll: when in the day its peak came (VmHWM says only how high).
    hwm_before = {p["name"]: status_kb(p["pid"], "VmHWM") for p in procs}
    sampled = {}
    while True:
        started = time.time()
        for p in procs:
            kb = status_kb(p["pid"], "VmRSS")
            if kb is not None and kb > sampled.get(p["name"], (0, 0))[0]:
                sampled[p["name"]] = (kb, started - closed_at)
        # The operations store is read in this process (a bridgectl process every 100 ms took 15 % of a core from the
        # pipeline it measures); once every batch's reconciliation is recorded there as matched, bridgectl confirms it.
        if store is None and os.path.exists(ops):
            store = sqlite3.connect(f"file:{ops}?mode=ro", uri=True, timeout=5)
        polls += 1
        if held and released_at is None and batch_events_published(state, batch_ids):
            os.kill(held["pid"], signal.SIGCONT)
            released_at = time.time()
            print(f"  {released_at - closed_at:.0f}s: every batch event published; the transformer goes on (SIGCONT)", file=sys.stderr)
        recorded = recorded_matched(store, batch_ids)
        if recorded:
            seen_at = time.time()
            done, states = reconciled(day, batch_ids, ops)
            if done:
                break
            seen_at = None
        if any(s.startswith("mismatched") for s in states.values()):
            failure = f"a batch reconciled as mismatched: {states}"
            break
        if started > until:
            failure = f"not reconciled {deadline:.0f}s after the close: {states}"
            break
        if started - last_report >= 10:
            _, states = reconciled(day, batch_ids, ops)
            alive(procs)
            print(f"  {started - closed_at:.0f}s: {states}", file=sys.stderr)
            last_report = started
        time.sleep(max(0.0, poll - (time.time() - started)))
    cpu_after = {p["name"]: cpu_seconds(p["pid"]) for p in procs}
    save(state, "closed.json", {
        "closed_at": closed_at, "answered_at": answered_at, "reconciled_seen_at": seen_at, "polls": polls, "poll": poll,
        "batches": closed, "batch_ids": batch_ids, "states": states, "failure": failure, "load_at_close": load_before,
        "ended_at": time.time(), "hwm_before": hwm_before, "sampled_peaks": sampled, "transformer_released_at": released_at,
        "cpu": {n: (cpu_after[n] - cpu_before[n]) if cpu_after[n] is not None and cpu_before[n] is not None else None for n in cpu_before}})
    if failure:
        sys.exit(failure)


def batch_events_published(state, batch_ids):
    """Whether heartland-ingest has published the batch event of every batch."""
    try:
        inbox = sqlite3.connect(f"file:{state}/heartland-ingest.sqlite?mode=ro", uri=True, timeout=5)
        marks = ",".join("?" * len(batch_ids))
        published = inbox.execute(f"SELECT COUNT(*) FROM inbox WHERE kind = 'batch' AND published_at IS NOT NULL AND source_id IN ({marks})",
                                  batch_ids).fetchone()[0]
        inbox.close()
        return published == len(batch_ids)
    except sqlite3.Error:
        return False


# MARK: stages

def stages(state, deadline):
    """Per batch: the times each stage had it, from the inbox, the hop records and the reconciliation."""
    closed = load(state, "closed.json")
    inbox = sqlite3.connect(f"file:{state}/heartland-ingest.sqlite?mode=ro", uri=True, timeout=5)
    ops = sqlite3.connect(f"file:{state}/operations.sqlite?mode=ro", uri=True, timeout=5)
    result = {}
    for batch_id in closed["batch_ids"]:
        key = f"heartland:batch:{batch_id}"
        row = inbox.execute("SELECT received_at, published_at, first_seen_by, attempts FROM inbox WHERE kind = 'batch' AND source_id = ?",
                            (batch_id,)).fetchone()
        built = inbox.execute("SELECT built_at, length(body) FROM batch_event WHERE batch_id = ?", (batch_id,)).fetchone()
        # The hop notices reach the trace store through the alerter after the results they go with: wait for the loader's.
        hops, until = [], time.time() + deadline
        while True:
            traces = sqlite3.connect(f"file:{state}/traces.sqlite?mode=ro", uri=True, timeout=5)
            first = traces.execute("SELECT correlation_id FROM hop WHERE idempotency_key = ? LIMIT 1", (key,)).fetchone()
            if first:
                hops = traces.execute("SELECT stage, at, duration_ms, outcome, routing_key, attempt, idempotency_key FROM hop "
                                      "WHERE correlation_id = ? ORDER BY at", (first[0],)).fetchall()
            if any(h[0] == "sage-loader" for h in hops) or time.time() > until:
                break
            time.sleep(0.2)
        per_stage = {}
        for stage, at, duration, outcome, routing_key, attempt, idempotency_key in hops:
            end = ts(at)
            s = per_stage.setdefault(stage, {"start": end - duration / 1000, "end": end, "handled_ms": 0, "messages": 0, "outcomes": []})
            s["start"] = min(s["start"], end - duration / 1000)
            s["end"] = max(s["end"], end)
            s["handled_ms"] += duration
            s["messages"] += 1
            s["outcomes"].append(f"{routing_key} attempt {attempt}: {outcome}"[:160])
        reconciliation = []
        for reference, status, recorded_at, report in ops.execute("SELECT reference, status, recorded_at, report FROM reconciliation "
                                                                  "ORDER BY recorded_at"):
            b = json.loads(report).get("batchID")
            if (b.get("rawValue") if isinstance(b, dict) else b) == batch_id:
                reconciliation.append((reference, status, recorded_at))
        # The fraud scorer logs how long scoring the batch's card sales took (`card sales scored … elapsed=`).
        scored = []
        try:
            for line in open(os.path.join(state, "logs", "fraud-scorer.log"), errors="replace"):
                if "card sales scored" in line and key in line:
                    sales, elapsed = re.search(r"\bsales=(\d+)", line), re.search(r"\belapsed=([0-9.e+-]+) seconds", line)
                    if sales and elapsed:
                        scored.append({"sales": int(sales.group(1)), "seconds": float(elapsed.group(1))})
        except OSError:
            pass
        result[batch_id] = {
            "scored": scored,
            "received": ts(row[0]) if row else None, "published": ts(row[1]) if row else None,
            "first_seen_by": row[2] if row else None, "ingest_attempts": row[3] if row else None,
            "built": ts(built[0]) if built else None, "event_bytes": built[1] if built else None,
            "stages": per_stage,
            "reconciled": [{"reference": r[0], "status": r[1], "recorded": ts(r[2])} for r in reconciliation]}
    save(state, "stages.json", result)


# MARK: the table

def mb(kb):
    return "—" if kb is None else f"{kb / 1024:.1f} MB"


def table(state, command):
    procs = load(state, "processes.json")
    info = load(state, "run.json")
    idle_figures = load(state, "idle.json")
    closed = load(state, "closed.json")
    stage_figures = load(state, "stages.json")
    rows = []

    def row(figure, value):
        rows.append((figure, value))

    row("command", command)
    row("when, machine", f"{info['started']}; {info['machine']}; load average at the close {' '.join(closed['load_at_close'])}")
    row("build", {"shipping": "the shipping build (scripts/lib/shipping-build-flags), as the image ships it",
                  "plain": "swift build -c release as SwiftPM links by default"}.get(info.get("build", "plain"), info.get("build")))
    row("store day", f"{info['day']}: {info['summary']}")
    row("generated in (not part of any figure)", f"{info['generate_seconds']:.1f} s")
    forwarded = idle_figures["forwarded_before_close"]
    row("forwarded before the close (start-up)", ", ".join(f"{n} {k}" for k, n in sorted(forwarded.items())) or "nothing")
    row("idle after start-up reached in", f"{idle_figures['waited']:.1f} s (work queues empty, inbox done, workers < 5 % of a core for {REST_SECONDS} s)")
    for p in procs:
        if p["kind"] == "worker":
            row(f"idle RSS {p['name']}", mb(idle_figures["rss_kb"].get(p["name"]))
                + f" (anonymous {mb(idle_figures.get('anon_kb', {}).get(p['name']))}, PSS {mb(idle_figures.get('pss_kb', {}).get(p['name']))})")
    for p in procs:
        if p["kind"] != "worker":
            row(f"idle RSS {p['name']} ({p['kind']})", mb(idle_figures["rss_kb"].get(p["name"])))
    row("refunds held for review at start-up, approved before the close", open(os.path.join(bench_dir(state), "approved")).read().strip())
    t0 = closed["closed_at"]
    if closed["reconciled_seen_at"] is not None:
        row("**batch close → reconciled** (operations store: matched; bridgectl report reconciliation confirms posted, matched)",
            f"{closed['reconciled_seen_at'] - t0:.2f} s (polled every {closed['poll'] * 1000:.0f} ms, {closed['polls']} polls)")
    else:
        row("**batch close → reconciled**", f"NOT REACHED: {closed['failure']} (gave up {closed['ended_at'] - t0:.0f} s after the close)")
    recorded = [r["recorded"] for b in stage_figures.values() for r in b["reconciled"] if r["status"] == "matched"]
    if recorded:
        row("batch close → reconciliation recorded (operations store's recorded_at)", f"{max(recorded) - t0:.2f} s")
    for batch_id, b in stage_figures.items():
        prefix = f"{batch_id}: " if len(stage_figures) > 1 else ""

        def at(t):
            return "—" if t is None else f"+{t - t0:.2f} s"
        row(f"{prefix}close → webhook recorded by heartland-ingest", at(b["received"]) + f" (first seen by {b['first_seen_by']})")
        row(f"{prefix}→ batch event built (batch, transactions and ticket pages fetched)",
            at(b["built"]) + (f" ({b['event_bytes'] / 1e6:.1f} MB event)" if b["event_bytes"] else ""))
        row(f"{prefix}→ published to bridge.events (heartland-ingest)", at(b["published"]) + f", {b['ingest_attempts']} attempt(s)")
        for stage in ("heartland-ingest", "transformer", "fraud-scorer", "sage-loader"):
            s = b["stages"].get(stage)
            if not s:
                row(f"{prefix}→ {stage}", "no hop record")
                continue
            row(f"{prefix}→ {stage} finished", f"{at(s['end'])} (handler {s['handled_ms'] / 1000:.2f} s over {s['messages']} message(s); "
                f"first started {at(s['start'])})")
            if s["messages"] > 1:
                kinds = {}
                for outcome in s["outcomes"]:
                    kind = re.sub(r"\d+(\.\d+)?", "N", outcome.split(": ", 1)[1] if ": " in outcome else outcome)[:90]
                    kinds[kind] = kinds.get(kind, 0) + 1
                row(f"{prefix}   {stage}'s outcomes", "; ".join(f"{n} × {k}" for k, n in sorted(kinds.items(), key=lambda x: -x[1])))
            if stage == "fraud-scorer":
                for scored in b.get("scored", []):
                    row(f"{prefix}   fraud-scorer's scoring of the card sales (its log)",
                        f"{scored['seconds']:.2f} s for {scored['sales']} sales ({scored['seconds'] * 1000 / max(scored['sales'], 1):.2f} ms a sale)")
        for r in b["reconciled"]:
            row(f"{prefix}→ reconciliation recorded by the alerter ({r['reference']})", f"{at(r['recorded'])} {r['status']}")
    for p in procs:
        cpu = closed["cpu"].get(p["name"])
        row(f"CPU during close → {'reconciled' if closed['reconciled_seen_at'] else 'giving up'}, {p['name']}", "—" if cpu is None else f"{cpu:.2f} s")
    for p in procs:
        peak, before = closed.get("sampled_peaks", {}).get(p["name"]), closed.get("hwm_before", {}).get(p["name"])
        when = f" (sampled every poll: {mb(peak[0])} at +{peak[1]:.1f} s; VmHWM {mb(before)} before the close)" if peak else ""
        row(f"peak RSS (VmHWM) {p['name']}", mb(status_kb(p["pid"], "VmHWM")) + when)
    width = max(len(f) for f, _ in rows)
    print(f"{'figure':<{width}}  value")
    for figure, value in rows:
        print(f"{figure:<{width}}  {value}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "processes":
        processes(args[0], args[1], args[2:])
    elif command == "idle":
        idle(args[0], float(args[1]))
    elif command == "close":
        close(args[0], args[1], args[2], float(args[3]), float(args[4]))
    elif command == "stages":
        stages(args[0], float(args[1]))
    elif command == "table":
        table(args[0], args[1])
    else:
        sys.exit(__doc__)
