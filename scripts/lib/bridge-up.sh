# The bridge on one machine, set up the same way by every script that needs all of it
# (scripts/demo, scripts/bench-refunds). Sourced, not run.
#
# The caller sets, before using the functions:
#   state       its state folder (SQLite files of the simulators, the inbox, ledgers, the operations store)
#   node_dir    the folder of its project-local RabbitMQ node
#   logs        where every process's output goes (e.g. $state/logs)
#   loaders     how many sage-loader processes to run
#   say, fail   functions: print a step; print an error and exit 1
# and may set:
#   bridge_who          name in messages ("the demo")
#   bridge_sync         1 (default): also sage-ingest and heartland-loader (two-way sync); 0: not
#   heartland_sim_args  extra arguments for `heartland-sim serve` (array), e.g. more --retail-token values
#   sage_sim_args       extra arguments for `sage-pro-sim` (array), e.g. --rate-limit 500/2000
#   alerter_args        extra arguments for the alerter (array), e.g. --console-port 0 --alert-webhook URL
#   ingest_args         extra arguments for heartland-ingest (array), e.g. --gateway-feed-catch-up SECONDS
#   mapping_file        the GL mapping the transformer reads (default Config/mapping.yaml); the demo gives a copy in its
#                       state, which the console's mapping page writes
#   fraud_model         the fraud-scorer's model file (default Config/fraud-model.json, the shipped one); none: rules only
#   sage_mode           http (default): loaders post through Sage's Web API; file: through GL import files in
#                       $state/sage-import, which sage-pro-sim watches (no two-way sync: set bridge_sync=0)
#   bridge_operations   1: every worker serves its health and metrics endpoint on a free loopback port, as in Compose
#                       (--http-port; NAME PORT lines in $state/operations-ports; bridge_scrape_operations reads each
#                       once); 0 (default): none
#
# After bridge_start_all: bin, heartland_url, sage_url, webhook_url, app_id, app_key, webhook_secret, retail_token,
# sage_password; SAGE_URL, SAGE_USER, SAGE_PASSWORD, SAGE_COMPANY, BRIDGE_AMQP_URL (the admin user),
# BRIDGE_MANAGEMENT_URL, BRIDGE_TOPOLOGY and BRIDGE_MAPPING are exported, so `$bin/bridgectl` works.
# bridge_traps makes Ctrl-C, an error or the end of the caller stop everything started here (SIGTERM,
# then SIGKILL after 10 s) and stop the node.

pids=()
bridge_who=${bridge_who:-the script}
bridge_sync=${bridge_sync:-1}
sage_mode=${sage_mode:-http}
if [ -z "${heartland_sim_args+x}" ]; then heartland_sim_args=(); fi
if [ -z "${sage_sim_args+x}" ]; then sage_sim_args=(); fi
if [ -z "${alerter_args+x}" ]; then alerter_args=(); fi
if [ -z "${ingest_args+x}" ]; then ingest_args=(); fi

bridge_stop_all() {
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping what $bridge_who started"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  scripts/rabbitmq-node stop "$node_dir" >/dev/null 2>&1 || true
  if declare -F bridge_after_stop >/dev/null; then bridge_after_stop; fi
}
bridge_traps() {
  trap bridge_stop_all EXIT
  trap 'exit 130' INT TERM
}

# Waits until a command succeeds, polling, for at most $1 seconds.
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${seconds}s waiting for $what (logs in $logs)"
    sleep 0.2
  done
}

# The value after "$2" on the first line of log file $1 that starts with it.
line_value() { sed -n "s|^$2||p" "$1" 2>/dev/null | head -n1; }
has_line() { [ -n "$(line_value "$1" "$2")" ]; }

# bridge_build [debug|release]: builds every product; sets bin.
bridge_build() {
  local configuration=${1:-debug}
  swift build -c "$configuration" 2>&1 | grep -Ev "^\[[0-9]+/[0-9]+\]|unhandled; explicitly declare|\.build/checkouts/|^Building|^Build complete" >&2 || true
  swift build -c "$configuration" -q 2>&1 | grep -Ev "unhandled; explicitly declare|\.build/checkouts/" >&2 || true
  swift build -c "$configuration" -q >/dev/null 2>&1 || fail "the build failed"
  bin=$(swift build -c "$configuration" --show-bin-path)
}

# The node in $node_dir, the topology, one broker user per worker with a password made for this node
# and kept in its data dir.
bridge_start_broker() {
  say "starting RabbitMQ ($node_dir)"
  local broker_env
  broker_env=$(scripts/rabbitmq-node start "$node_dir")
  admin_amqp=$(echo "$broker_env" | sed -n 's/^BRIDGE_AMQP_URL=//p')
  BRIDGE_MANAGEMENT_URL=$(echo "$broker_env" | sed -n 's/^BRIDGE_MANAGEMENT_URL=//p')
  export BRIDGE_MANAGEMENT_URL
  export BRIDGE_AMQP_URL=$admin_amqp
  amqp_host=${admin_amqp#*@}
  secrets=$node_dir/worker-secrets
  mkdir -p "$secrets" && chmod 700 "$secrets"
  for user in heartland-ingest sage-ingest transformer fraud-scorer sage-loader heartland-loader alerter operations-console; do
    [ -s "$secrets/$user" ] || (umask 077; openssl rand -hex 16 >"$secrets/$user")
  done
  # operations-console: the broker user of the alerter's console when one is started (docs/CONSOLE.md), as in Compose.
  "$bin/bridgectl" topology apply --secrets-dir "$secrets" --console-user operations-console >"$logs/topology.log" 2>&1 || { cat "$logs/topology.log" >&2; fail "topology apply failed"; }
}
url_for() { echo "amqp://$1:$(cat "$secrets/$1")@$amqp_host"; }

start() {  # start NAME COMMAND...: runs in the background, output to $logs/NAME.log
  local name=$1 port; shift
  if [ "${bridge_operations:-0}" = 1 ] && [[ $1 == "$bin/"* && $name != *-sim ]]; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    set -- "$@" --http-port "$port"
    echo "$name $port" >>"$state/operations-ports"
  fi
  "$@" >"$logs/$name.log" 2>&1 &
  pids+=($!)
}

# Each worker's endpoint read once, as Compose's health checks and Prometheus read them (bridge_operations=1).
bridge_scrape_operations() {
  local name port path
  while read -r name port; do
    for path in /health/live /health/ready /metrics; do
      curl -sS -o /dev/null --max-time 10 "http://127.0.0.1:$port$path" || fail "$name's $path (port $port) did not answer"
    done
  done <"$state/operations-ports"
}

# heartland-sim (serving $state/heartland.sqlite, made by `heartland-sim generate`) and sage-pro-sim.
bridge_start_simulators() {
  say "starting heartland-sim and sage-pro-sim"
  app_id=demo-app app_key=$(openssl rand -hex 12) retail_token=$(openssl rand -hex 12) sage_password=$(openssl rand -hex 12)
  # The webhook signing secret is its own, never the app key (docs/SECURITY.md).
  webhook_secret=$(openssl rand -hex 16)
  HEARTLAND_SIM_WEBHOOK_SECRET=$webhook_secret \
    start heartland-sim "$bin/heartland-sim" serve --db "$state/heartland.sqlite" --port 0 --app-id "$app_id" --app-key "$app_key" \
    --retail-token "$retail_token" --webhook-retry-ms 500 "${heartland_sim_args[@]}"
  local import_args=()
  [ "$sage_mode" != file ] || import_args=(--import-dir "$state/sage-import")
  start sage-pro-sim "$bin/sage-pro-sim" --db "$state/sage.sqlite" --port 0 --user ADMIN --password "$sage_password" \
    ${import_args[@]+"${import_args[@]}"} ${sage_sim_args[@]+"${sage_sim_args[@]}"}
  wait_for 30 "heartland-sim" has_line "$logs/heartland-sim.log" "listening on "
  wait_for 30 "sage-pro-sim" has_line "$logs/sage-pro-sim.log" "listening on "
  heartland_url=$(line_value "$logs/heartland-sim.log" "listening on ")
  sage_url=$(line_value "$logs/sage-pro-sim.log" "listening on ")
  export SAGE_URL=$sage_url SAGE_USER=ADMIN SAGE_PASSWORD=$sage_password SAGE_COMPANY=SAMINC
}

# Every worker, each with its own broker user; waits until each stage consumes, then registers
# heartland-ingest's webhook receiver with Heartland.
bridge_start_workers() {
  say "starting the workers"
  export BRIDGE_TOPOLOGY=$PWD/Topology/definitions.json BRIDGE_MAPPING=${mapping_file:-$PWD/Config/mapping.yaml}
  HEARTLAND_URL=$heartland_url HEARTLAND_APP_ID=$app_id HEARTLAND_APP_KEY=$app_key HEARTLAND_RETAIL_TOKEN=$retail_token \
    HEARTLAND_WEBHOOK_SECRET=$webhook_secret start heartland-ingest "$bin/heartland-ingest" --amqp-url "$(url_for heartland-ingest)" --inbox "$state/heartland-ingest.sqlite" \
    --sync-state "$state/heartland-sync.sqlite" --webhook-port 0 --poll-interval 30 --catch-up-days 2 \
    ${ingest_args[@]+"${ingest_args[@]}"}  # the generated day is up to two UTC dates back (US stores at 02:00 UTC)
  start transformer "$bin/transformer" --amqp-url "$(url_for transformer)" ${transformer_args[@]+"${transformer_args[@]}"}
  # The shipped model (docs/FRAUD-MODEL.md) unless the caller names another, or none (fraud_model=none: rules only).
  local model_args=()
  case "${fraud_model:-$PWD/Config/fraud-model.json}" in
    none) ;;
    *) model_args=(--model "${fraud_model:-$PWD/Config/fraud-model.json}") ;;
  esac
  start fraud-scorer "$bin/fraud-scorer" --amqp-url "$(url_for fraud-scorer)" --review-store "$state/fraud-reviews.sqlite" ${model_args[@]+"${model_args[@]}"} \
    --store-hours "$PWD/Config/store-hours.yaml" \
    --batch-history "$state/fraud-batch-history.sqlite" --feature-store "$state/fraud-features.sqlite"
  local i
  for i in $(seq 1 "$loaders"); do
    if [ "$sage_mode" = file ]; then
      SAGE_MODE=file SAGE_IMPORT_DIR=$state/sage-import \
        start "sage-loader-$i" "$bin/sage-loader" --amqp-url "$(url_for sage-loader)" --ledger "$state/sage-loader-$i.sqlite"
    else
      start "sage-loader-$i" "$bin/sage-loader" --amqp-url "$(url_for sage-loader)" --ledger "$state/sage-loader-$i.sqlite"
    fi
  done
  start alerter "$bin/alerter" --amqp-url "$(url_for alerter)" --store "$state/operations.sqlite" --trace-store "$state/traces.sqlite" \
    ${alerter_args[@]+"${alerter_args[@]}"}
  if [ "$bridge_sync" = 1 ]; then
    # Two-way sync (docs/SYNC.md): Sage's items, stock, customers and order fulfilment to Heartland.
    export BRIDGE_SYNC_CONFIG=$PWD/Config/sync.yaml
    start sage-ingest "$bin/sage-ingest" --amqp-url "$(url_for sage-ingest)" --state "$state/sage-ingest.sqlite" --poll-interval 1
    HEARTLAND_URL=$heartland_url HEARTLAND_RETAIL_TOKEN=$retail_token \
      start heartland-loader "$bin/heartland-loader" --amqp-url "$(url_for heartland-loader)" --ledger "$state/heartland-loader.sqlite"
  fi
  wait_for 30 "heartland-ingest's webhook receiver" has_line "$logs/heartland-ingest.log" "webhooks listening on "
  webhook_url=$(line_value "$logs/heartland-ingest.log" "webhooks listening on ")
  wait_for 60 "every stage to consume" bridge_consumers_ready
  curl -fsS -X POST "$heartland_url/admin/webhooks" -H 'Content-Type: application/json' -d "{\"url\":\"$webhook_url\"}" >/dev/null
}
bridge_consumers_ready() {
  "$bin/bridgectl" status --json 2>/dev/null | python3 -c '
import json, sys
queues = {q["queue"]: q for q in json.load(sys.stdin)}
need = {"transformer": 1, "fraud-scorer": 1, "sage-loader": int(sys.argv[1]), "alerter": 1}
if sys.argv[2] == "1": need["heartland-loader"] = 1
sys.exit(0 if all(queues.get(n, {}).get("consumers", 0) >= c for n, c in need.items()) else 1)' "$loaders" "$bridge_sync"
}
