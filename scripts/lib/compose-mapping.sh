# The mapping page in the Compose deployment, sourced by scripts/compose-test (its helpers: in_service, fail, note, say,
# wait_for; $CONSOLE_HOST_PORT, $mapper_password, a console user `mapper` of role mapper added to the console-users
# secret before `up`). Not a command.
#
# mapping_page_saves DAY: once DAY is posted, account 1214 is opened in Sage (its Web API), the mapper logs in to the console (POST /login), checks Visa's clearing
# account changed to another active account of Sage's chart (GET /api/mapping?check=1&account.RULE=ACCOUNT: the check
# must have read Sage's chart and DAY's kept batches, and pass), saves it (POST /mapping/save with the session's CSRF
# token and a why: 303 to /mapping?notice=saved…), and the transformer and sage-loader containers see the saved file.
# mapping_in_sage DAY NEXT: DAY's journals in Sage post Visa to the old account and never the new one; NEXT's (posted
# after the save, with no restart) post Visa to the new one and never the old.

mapping_rule=tenders.card_brands.visa.account
mapping_new_account=1214   # created in Sage (sage-pro-sim) first, as "Card clearing - Visa (new acquirer)"
console_url=http://127.0.0.1:$CONSOLE_HOST_PORT

mapping_page_saves() {
  local day=$1 started=$SECONDS headers cookie csrf check status location old_account saved_at
  old_account=$(in_service transformer sh -c "grep -A3 '^    visa:' /app/mapping/mapping.yaml" | sed -n 's/^ *account: *"\{0,1\}\([0-9A-Za-z-]*\).*/\1/p' | head -n1)
  [ -n "$old_account" ] && [ "$old_account" != "$mapping_new_account" ] || fail "mapping page: Visa's account in force is '$old_account'"
  # Sage's accountant opens the new acquirer's clearing account in Sage first (the page offers only Sage's accounts).
  curl -fsS -o /dev/null -u "${SAGE_USER:-ADMIN}:$(cat "$BRIDGE_SECRETS_DIR/sage-password")" -H 'Content-Type: application/json' \
    -X POST "$sage/Sage300WebApi/v1.0/-/${SAGE_COMPANY:-SAMINC}/GL/GLAccounts" \
    -d "{\"AccountNumber\":\"$mapping_new_account\",\"Description\":\"Card clearing - Visa (new acquirer)\",\"AccountType\":\"BalanceSheet\",\"NormalBalanceDRCR\":\"Debit\"}" \
    || fail "mapping page: account $mapping_new_account could not be created in sage-pro-sim"
  headers=$(curl -fsS -o /dev/null -D - -X POST "$console_url/login" --data-urlencode name=mapper --data-urlencode "password=$mapper_password") \
    || fail "mapping page: the mapper could not log in"
  cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' <<<"$headers" | head -n1)
  [ -n "$cookie" ] || fail "mapping page: no session cookie after the login: $headers"
  csrf=$(curl -fsS -H "Cookie: $cookie" "$console_url/alerts" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n1)
  [ -n "$csrf" ] || fail "mapping page: no CSRF token on the alerts page"

  local check_started=$SECONDS
  curl -fsS -H "Cookie: $cookie" --get "$console_url/api/mapping" --data-urlencode check=1 \
    --data-urlencode "account.$mapping_rule=$mapping_new_account" >"$work/mapping-check.json" || fail "mapping page: GET /api/mapping?check=1 failed"
  local check_seconds=$((SECONDS - check_started))
  check=$(python3 - "$work/mapping-check.json" "$mapping_rule" "$mapping_new_account" <<'PY'
import json, sys
page = json.load(open(sys.argv[1]))
sys.argv.pop(1)
rule, account = sys.argv[1], sys.argv[2]
problems = []
if page.get("chartProblem"): problems.append(page["chartProblem"])
if page.get("daysProblem"): problems.append(page["daysProblem"])
if page.get("checkProblem"): problems.append(page["checkProblem"])
check = page.get("check")
if not check: problems.append("no check in the page")
else:
    errors = [p["message"] for p in check["problems"] if p["severity"] == "error"]
    if errors: problems.append("the check refuses: " + "; ".join(errors))
    if not check["batches"]: problems.append("the check read no kept batch of heartland-ingest")
if page.get("changes") != {rule: account}: problems.append(f"the page proposes {page.get('changes')}")
if not any(a["number"] == account and a["active"] for a in page.get("chart") or []): problems.append(f"{account} is not an active account of Sage's chart")
if problems: sys.exit("; ".join(problems))
print(f"{len(page['chart'])} accounts of Sage's chart, {check['batches']} kept batches, "
      f"{len(check['problems'])} note(s), passed")
PY
) || fail "mapping page: check of $mapping_rule → $mapping_new_account: $check"

  read -r status location < <(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' -H "Cookie: $cookie" -X POST "$console_url/mapping/save" \
    --data-urlencode "csrf=$csrf" --data-urlencode "account.$mapping_rule=$mapping_new_account" \
    --data-urlencode "why=new Visa acquirer (scripts/compose-test)")
  [ "$status" = 303 ] && [[ "$location" == *"/mapping?notice=saved%20mapping%20version"* ]] \
    || fail "mapping page: POST /mapping/save answered $status $location"
  saved_at=$SECONDS
  local service
  for service in transformer sage-loader; do
    in_service "$service" grep -q "account: \"\{0,1\}$mapping_new_account" /app/mapping/mapping.yaml \
      || fail "mapping page: $service does not see the saved mapping in /app/mapping/mapping.yaml"
  done
  local versions
  versions=$(curl -fsS -H "Cookie: $cookie" "$console_url/api/mapping/versions" | python3 -c '
import json, sys
v = json.load(sys.stdin)
actor, why = v[0]["actor"], v[0]["why"]
print(f"{len(v)} versions, newest by {actor}: {why}")') || fail "mapping page: no versions listed"
  note "mapping page (after $day posted): mapper logged in; check of $mapping_rule $old_account → $mapping_new_account in ${check_seconds}s: $check"
  note "  saved (303 to ${location#*notice=}); $versions; the file seen by transformer and sage-loader on mapping-data ($((saved_at - started))s in all)"
  mapping_old_account=$old_account
}

mapping_in_sage() {  # day posted before the save, day posted after it
  local result
  in_service sage-loader bridgectl sage journals --date "$1" --json >"$work/journals-lines-$1.json"
  in_service sage-loader bridgectl sage journals --date "$2" --json >"$work/journals-lines-$2.json"
  result=$(python3 - "$work/journals-lines-$1.json" "$work/journals-lines-$2.json" "$mapping_old_account" "$mapping_new_account" <<'PY'
import json, sys
before, after, old, new = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
def count(entries, account): return sum(1 for e in entries for l in e["lines"] if l["account"] == account)
problems = []
if count(before, new): problems.append(f"{count(before, new)} line(s) to {new} on the day posted before the save")
if not count(before, old): problems.append(f"no line to {old} on the day posted before the save")
if count(after, old): problems.append(f"{count(after, old)} line(s) still to {old} on the day posted after the save")
if not count(after, new): problems.append(f"no line to {new} on the day posted after the save")
if problems: sys.exit("; ".join(problems))
print(f"before the save {count(before, old)} Visa line(s) to {old}; after it {count(after, new)} to {new}, none to {old}")
PY
) || fail "mapping page: the day posted after the save: $result"
  note "mapping page: in Sage, $result (the transformer was not restarted)"
}
