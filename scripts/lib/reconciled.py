"""Whether every batch named has a reconciliation report in one of the given statuses: exit 0 if so, 1 if not.

    bridgectl report reconciliation --date DAY --format json | python3 scripts/lib/reconciled.py matched,mismatched BATCH...

Used by the scripts that wait for a day to be posted and reconciled (demo, card-data-check, compose-test).
"""
import json
import sys


def batch(report):
    b = report.get("batchID")
    return b.get("rawValue") if isinstance(b, dict) else b


if len(sys.argv) < 2:
    sys.exit(__doc__)
statuses = set(sys.argv[1].split(","))
done = {batch(r) for r in json.load(sys.stdin) if r.get("status") in statuses}
sys.exit(0 if set(sys.argv[2:]) <= done else 1)
