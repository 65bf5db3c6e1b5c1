"""Writes a heartland-ingest inbox holding kept batch events, as heartland-ingest keeps them (table batch_event), for
scripts/bench-mapping-check and scripts/bench-rules-backtest: STORES stores × DAYS days × TICKETS tickets, the last day yesterday, each kept (`built_at`) on its day.

  python3 scripts/lib/kept-days.py FILE STORES DAYS TICKETS

Each batch: Los Angeles stores, tickets of one or two item lines with sales tax, paid by Visa, Mastercard, Amex, Discover
(with a tip now and then) or cash; the batch's totals and brand breakdown are the sum of its card payments, so that every
batch builds a balanced journal with Config/mapping.yaml (the check then reports nothing: the cost is all building).
"""
import datetime
import json
import random
import sqlite3
import sys

path, stores, days, tickets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
brands = ["VISA", "MASTERCARD", "AMEX", "DISCOVER"]
rng = random.Random(7)
db = sqlite3.connect(path)
db.execute("CREATE TABLE IF NOT EXISTS batch_event (batch_id TEXT PRIMARY KEY, body BLOB NOT NULL, built_at TEXT NOT NULL)")
now = datetime.datetime.now(datetime.timezone.utc)
count = 0
for day_back in range(days, 0, -1):
    date = (now - datetime.timedelta(days=day_back)).date().isoformat()
    built = (now - datetime.timedelta(days=day_back) + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for s in range(1, stores + 1):
        batch = f"BAT_S{s:03d}_{date}"
        items, by_brand = [], {}
        for t in range(1, tickets + 1):
            lines, total = [], 0
            for n in range(rng.choice([1, 1, 2])):
                cents = rng.randrange(199, 9999)
                lines.append({"id": t * 100 + n, "type": "ItemLine", "description": "Item", "qty": 1,
                              "unit_price": f"{cents / 100:.2f}", "discount_amount": 0, "value": f"{cents / 100:.2f}"})
                total += cents
            tax = round(total * 0.08)
            lines.append({"id": t * 100 + 9, "type": "TaxLine", "description": "Sales Tax", "qty": 1,
                          "unit_price": f"{tax / 100:.2f}", "discount_amount": 0, "value": f"{tax / 100:.2f}"})
            total += tax
            if rng.random() < 0.25:
                payment = {"id": t * 100 + 50, "payment_type": "Cash", "amount": f"{total / 100:.2f}", "tip_amount": 0}
            else:
                brand = rng.choice(brands)
                tip = rng.choice([0, 0, 0, 100, 200, 300])
                payment = {"id": t * 100 + 50, "payment_type": "Credit Card", "amount": f"{(total + tip) / 100:.2f}",
                           "tip_amount": f"{tip / 100:.2f}" if tip else 0, "card_type": brand}
                b = by_brand.setdefault(brand, [0, 0, 0])
                b[0] += 1; b[1] += total + tip; b[2] += tip
            items.append({"id": t, "public_id": f"{batch}-{t}", "status": "complete",
                          "completed_at": f"{date}T{8 + t * 12 // tickets:02d}:{t % 60:02d}:00Z",
                          "lines": lines, "payments": [payment]})
        sales = [sum(b[0] for b in by_brand.values()), sum(b[1] for b in by_brand.values())]
        batch_json = {"id": batch, "batch_id": batch, "status": "CLOSED", "business_day": date, "currency": "USD",
                      "sales": {"count": sales[0], "amount": str(sales[1])}, "refunds": {"count": 0, "amount": "0"},
                      "gratuity_amount": str(sum(b[2] for b in by_brand.values())), "fee_amount": "0",
                      "brand_breakdown": [{"brand": k, "count": v[0], "amount": str(v[1]), "sales": {"count": v[0], "amount": str(v[1])},
                                           "refunds": {"count": 0, "amount": "0"}, "gratuity_amount": str(v[2]), "fee_amount": "0"}
                                          for k, v in sorted(by_brand.items())]}
        event = {"schema": "bridge.heartland.batch_closed.v1",
                 "store": {"id": f"S{s:03d}", "time_zone": "America/Los_Angeles", "currency": "USD"},
                 "batch_id": batch, "business_date": date, "batch": json.dumps(batch_json), "tickets": json.dumps(items)}
        db.execute("INSERT OR REPLACE INTO batch_event (batch_id, body, built_at) VALUES (?, ?, ?)",
                   (batch, json.dumps(event).encode(), built))
        count += 1
db.commit()
size = db.execute("SELECT total(length(body)) FROM batch_event").fetchone()[0]
print(f"{count} batch events of {tickets} tickets, {size / 2**20:.0f} MiB of JSON, in {path}")
