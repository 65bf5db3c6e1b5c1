#!/usr/bin/env python3
"""Checks that every metric a Grafana dashboard (JSON) or a Prometheus rules file (YAML) queries is exported.

    promql-metrics.py DASHBOARD.json|RULES.yml SCRAPE... 

SCRAPE files are /metrics pages as the running containers served them (Prometheus text format). A metric
is exported when a scrape has a sample or a `# TYPE` line for it (a histogram `h` covers h_bucket, h_sum,
h_count). Prometheus's own series (up, scrape_*) always count. A metric with no sample in these scrapes but
named in Sources/ is reported as "not seen in this run" (a counter the code creates on its first event, e.g.
a dead letter): listed, not a failure. A metric neither scraped nor in Sources/ is a failure (exit 1).
Used by scripts/compose-test.
"""
import json
import pathlib
import re
import sys

KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "inf", "nan", "le"}


def expressions(path):
    text = pathlib.Path(path).read_text()
    if path.endswith(".json"):
        found = []

        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == "expr" and isinstance(value, str):
                        found.append(value)
                    else:
                        walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(json.loads(text))
        return found
    import yaml
    return [rule["expr"] for group in yaml.safe_load(text)["groups"] for rule in group["rules"] if "expr" in rule]


def metric_names(expr):
    expr = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)                     # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                               # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                              # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)                             # Grafana variables
    expr = re.sub(r"\b\d+(\.\d+)?([smhdwy]|ms)?\b", "", expr)           # numbers, durations
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        rest = expr[match.end():].lstrip()
        if rest.startswith("("):
            continue                                                    # a function
        if match.group(0) in KEYWORDS:
            continue
        names.add(match.group(0))
    return names


def exported(scrapes):
    names = set()
    for path in scrapes:
        for line in pathlib.Path(path).read_text().splitlines():
            if line.startswith("# TYPE "):
                parts = line.split()
                names.add(parts[2])
                if len(parts) > 3 and parts[3] in ("histogram", "summary"):
                    names.update(parts[2] + suffix for suffix in ("_bucket", "_sum", "_count"))
            elif line and not line.startswith("#"):
                names.add(re.split(r"[{\s]", line, 1)[0])
    return names


def main():
    source, scrapes = sys.argv[1], sys.argv[2:]
    queried = set().union(*(metric_names(e) for e in expressions(source)))
    have = exported(scrapes)
    missing = sorted(n for n in queried if n not in have and n != "up" and not n.startswith("scrape_"))
    code = "\n".join(p.read_text() for p in pathlib.Path("Sources").rglob("*.swift"))
    unseen = [n for n in missing if re.search(r'"' + re.escape(re.sub(r"_(bucket|sum|count)$", "", n)) + r'"', code)]
    unknown = [n for n in missing if n not in unseen]
    line = f"{len(queried)} metrics queried, {len(queried) - len(missing)} exported by the running containers"
    if unseen:
        line += f"; not seen in this run (created by the code on their first event): {', '.join(unseen)}"
    if unknown:
        print(line + f"; NOT EXPORTED by any container nor named in Sources/: {', '.join(unknown)}")
        sys.exit(1)
    print(line)


if __name__ == "__main__":
    main()
