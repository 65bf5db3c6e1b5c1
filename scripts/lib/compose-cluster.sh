# The `cluster` profile's run of scripts/compose-test (--cluster), sourced by it once the deployment is up and healthy
# (its helpers: compose, wait_for, say, note, fail, management_get, queues_json, run_day's checks…). Not a command.
#
# 1. One cluster: each node's own management API lists the same three running nodes; pause_minority on each; the
#    one-shot rabbitmq-cluster-grow exited 0 and every quorum queue has a member on each node, all online.
# 2. A store day (the last business day): once the first journal is posted, the node leading most work queues is
#    `docker kill`ed. Meanwhile the /metrics of transformer, fraud-scorer and sage-loader are sampled back to back
#    (messages handled, journals posted), so the pause in the flow is seen from the workers. Once every worker is ready
#    again and a journal has been posted since (or the day is done; at most 120 s, recorded), the node is started again
#    (`docker start`) and must be back in the cluster with every quorum member online. At least one journal must be
#    posted after the kill (the kill was mid-flow).
# 3. After the day: every batch reconciled, every journal in Sage once, every queue empty, nothing parked, every
#    container healthy, no worker restarted (same container start time, restart count 0) and every worker user
#    connected to the broker again; the recovery figures go to the summary.

nodes=(rabbitmq rabbitmq-2 rabbitmq-3)  # in the order of management_urls
node_names=("${nodes[@]/#/rabbit@}")
# The work queues: the stages, i.e. queues with a dead-letter queue S.dlq beside them.
stage_queues=$(python3 -c '
import json
names = {q["name"] for q in json.load(open("Topology/definitions.json"))["queues"]}
print(" ".join(sorted(n for n in names if n + ".dlq" in names)))')

# --- 1. the cluster ---------------------------------------------------------------------------------------
say "cluster: three nodes, one cluster, quorum queues on each"
one_cluster() {  # every node's own API: the three nodes running
  local url
  for url in "${management_urls[@]}"; do
    curl -fsS -m 5 -u "admin:$admin_password" "$url/api/nodes" 2>/dev/null | python3 -c '
import json, sys
running = sorted(n["name"] for n in json.load(sys.stdin) if n.get("running") and not n.get("partitions"))
sys.exit(0 if running == sorted(sys.argv[1:]) else 1)' "${node_names[@]}" 2>/dev/null || return 1
  done
}
quorum_on_every_node() {  # every quorum queue: members on the three nodes, all online
  management_get "/api/queues/%2F" | python3 -c '
import json, sys
nodes = sorted(sys.argv[1:])
quorum = [q for q in json.load(sys.stdin) if q.get("type") == "quorum"]
short = [q["name"] for q in quorum if sorted(q.get("members") or []) != nodes or sorted(q.get("online") or []) != nodes]
sys.exit(1 if short or not quorum else 0)' "${node_names[@]}" 2>/dev/null
}
quorum_summary() {  # how many quorum queues, and which node leads how many (of them, and of the work queues)
  management_get "/api/queues/%2F" | python3 -c '
import collections, json, sys
stages = set(sys.argv[1].split())
quorum = [q for q in json.load(sys.stdin) if q.get("type") == "quorum"]
leaders = collections.Counter(q.get("leader") for q in quorum)
work = {q["name"]: q.get("leader") for q in quorum if q["name"] in stages}
members = sorted({m for q in quorum for m in q.get("members", [])})
print(f"{len(quorum)} quorum queues with members on " + ", ".join(members) + "; leaders: "
      + ", ".join(f"{n} {c}" for n, c in sorted(leaders.items())) + "; work queues: "
      + ", ".join(f"{q} on {l}" for q, l in sorted(work.items())))' "$stage_queues"
}
work_queue_leader() {  # the node leading most work queues
  management_get "/api/queues/%2F" | python3 -c '
import collections, json, sys
stages = set(sys.argv[1].split())
leaders = collections.Counter(q.get("leader") for q in json.load(sys.stdin) if q["name"] in stages)
print(leaders.most_common(1)[0][0])' "$stage_queues"
}
connections_by_node() {  # node: the worker users connected to it
  management_get "/api/connections?columns=user,node" | python3 -c '
import collections, json, sys
by_node = collections.defaultdict(list)
for c in json.load(sys.stdin): by_node[c["node"]].append(c["user"])
print("; ".join(n + ": " + ", ".join(sorted(u)) for n, u in sorted(by_node.items())))'
}
every_worker_connected() {  # each worker user has a connection to some node (the alerter's console user too)
  management_get "/api/connections?columns=user" | python3 -c '
import json, sys
users = {c["user"] for c in json.load(sys.stdin)}
missing = [w for w in sys.argv[1:] if w not in users]
sys.exit(1 if missing else 0)' $workers
}

wait_for 180 "the three nodes to be one cluster, seen from each node" one_cluster
for node in "${nodes[@]}"; do
  handling=$(docker exec "$(first_container "$node")" rabbitmqctl -q eval 'application:get_env(rabbit, cluster_partition_handling).' 2>&1)
  [ "$handling" = "{ok,pause_minority}" ] || fail "$node: cluster_partition_handling is $handling, not pause_minority"
done
wait_for 120 "every quorum queue with a member on each node, all online" quorum_on_every_node
note "cluster: ${node_names[*]} running in one cluster (each node's management API), pause_minority on each; rabbitmq-cluster-grow exited 0"
note "  $(quorum_summary)"
wait_for 120 "every worker connected to the broker" every_worker_connected
note "  connections by node: $(connections_by_node)"

# --- 2. a store day, the leader killed during it ----------------------------------------------------------
day=$last_day
say "cluster day ($day): the node leading the work queues killed once the first journal is posted, started again later"
worker_ids=$(for service in $workers; do running_of "$service"; done | tr '\n' ' ')
started_before=$(for id in $worker_ids; do docker inspect -f '{{.Name}} {{.State.StartedAt}} {{.RestartCount}}' "$id"; done)

# The journals' path, sampled back to back (a sample takes a few tenths of a second): one line per sample with the
# time, the messages handled by transformer, fraud-scorer and sage-loader (bridge_messages_handled_total) and the
# journals posted to Sage (bridge_journals_posted_total). A worker that does not answer leaves a sum lower for that
# sample; progress is only counted where a sum exceeds every earlier one.
pipeline_ids=$(for service in transformer fraud-scorer sage-loader; do running_of "$service"; done | tr '\n' ' ')
flow_sample() {
  local t id
  t=$(date +%s.%N)
  for id in $pipeline_ids; do docker exec "$id" curl -fsS -m 2 http://127.0.0.1:9090/metrics 2>/dev/null & done | python3 -c '
import sys
handled = posted = 0.0
for line in sys.stdin:
    if line.startswith("bridge_messages_handled_total"): handled += float(line.split()[-1])
    elif line.startswith("bridge_journals_posted_total"): posted += float(line.split()[-1])
print(f"{float(sys.argv[1]):.2f} {int(handled)} {int(posted)}")' "$t"
}
sample_flow() { while [ -e "$work/flow-sampling" ]; do flow_sample >>"$1"; done; }
flow=$work/cluster-flow.txt
: >"$flow"
touch "$work/flow-sampling" "$work/sampling"
sample_flow "$flow" &
flow_sampler=$!
sample_memory "$work/stats-day.txt" 5 &
sampler=$!
stop_samplers() {
  rm -f "$work/flow-sampling" "$work/sampling"
  wait "$flow_sampler" "$sampler" 2>/dev/null || true
  flow_sampler="" sampler=""
}
last_posted() { tail -n1 "$flow" | awk '{ print $3 }'; }
wait_for 60 "the first sample of the workers' counters" test -s "$flow"
posted_start=$(last_posted)

leader=$(work_queue_leader)
leader_service=${leader#rabbit@}
leader_id=$(first_container "$leader_service")
[ -n "$leader_id" ] || fail "no running container for the leader $leader"
connections_before=$(connections_by_node)
sage_latency "$latency_ms"
open_day "$day" 45
batches=$(close_batches) || fail "heartland-sim closed no batch for $day"
t_close=$(date +%s.%N)
first_journal_posted() { [ "$(last_posted)" -gt "$posted_start" ]; }
wait_for 300 "the first journal of $day posted" first_journal_posted
t_kill=$(date +%s.%N)
docker kill "$leader_id" >/dev/null
note "cluster day ($day, $stores stores × $tickets tickets, Sage +${latency_ms} ms): $(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$t_close" "$t_kill")s after the batches closed, once the first journal was posted, docker kill $leader_service (leader of the work queues); connections before: $connections_before"

since_kill() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$t_kill"; }
workers_ready() {
  local id
  for id in $worker_ids; do docker exec "$id" curl -fsS -m 2 -o /dev/null http://127.0.0.1:9090/health/ready 2>/dev/null || return 1; done
}
stages_consumed() {  # every work queue has a consumer again (the management API lags up to 5 s)
  queues_json | python3 -c '
import json, sys
consumers = {q["name"]: q.get("consumers", 0) for q in json.load(sys.stdin)}
sys.exit(0 if all(consumers.get(s, 0) >= 1 for s in sys.argv[1:]) else 1)' $stage_queues 2>/dev/null
}
# Journals posted after a moment: a later sample's count exceeds every count sampled up to that moment.
posted_since() {
  python3 - "$flow" "$1" <<'PY'
import sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 3]
t0 = float(sys.argv[2])
before = max((p for t, _, p in samples if t <= t0), default=0)
sys.exit(0 if any(p > before for t, _, p in samples if t > t0) else 1)
PY
}
day_done() { reconciled "$day" $batches; }
flowing_or_done() { posted_since "$t_ready" || day_done; }

wait_for 300 "every worker ready again (/health/ready) after the kill" workers_ready
t_ready=$(date +%s.%N); ready_after=$(since_kill)
wait_for 300 "every work queue consumed again after the kill" stages_consumed
consumed_after=$(since_kill)
# Does the flow resume on two nodes? Up to 120 s for a journal posted after the workers were ready (or the day done);
# if none comes, that is recorded and the node is started anyway (not a failure: the checks after the day decide).
two_nodes_deadline=$((SECONDS + 120))
until flowing_or_done || [ $SECONDS -ge $two_nodes_deadline ]; do sleep 0.5; done
if flowing_or_done; then
  two_nodes="a journal posted after that (or the day done) seen at +$(since_kill)s"
else
  two_nodes="no journal posted in the 120 s after that with the node down (+$(since_kill)s)"
fi
# Started again by the test: `docker kill` counts as an operator's stop for `restart: unless-stopped`.
[ "$(docker inspect -f '{{.State.Status}}' "$leader_id")" = exited ] || fail "$leader_service was running again before the test started it"
t_start=$SECONDS started_at_kill=$(since_kill)
docker start "$leader_id" >/dev/null
back_in_cluster() { one_cluster && quorum_on_every_node; }
wait_for 300 "$leader_service back in the cluster, every quorum member online" back_in_cluster
note "  after the kill: every worker ready (/health/ready) at +${ready_after}s, every work queue consumed at +${consumed_after}s (management API, lags ≤ 5 s), $two_nodes; docker start $leader_service at +${started_at_kill}s: back in the cluster with every quorum member online $((SECONDS - t_start))s later"

# A parked message (S.dlq) stays until an operator acts: the day cannot finish by itself, so stop waiting and name it.
parked_any() {
  queues_json | python3 -c '
import json, sys
sys.exit(0 if any(q["name"].endswith(".dlq") and q.get("messages", 0) for q in json.load(sys.stdin)) else 1)' 2>/dev/null
}
day_done_or_parked() { day_done || parked_any; }
wait_for 600 "every batch of $day reconciled after the kill (or a message parked)" day_done_or_parked
# Publishes the broker refused (basic.nack) after the kill, as the workers logged them (whole seconds).
refused=$(compose logs --no-color $workers 2>/dev/null | python3 -c '
import collections, datetime, re, sys
t_kill = float(sys.argv[1])
seen = collections.defaultdict(list)
for line in sys.stdin:
    m = re.match(r"(\S+?)_\d+\s+\| (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}) .*basic\.nack", line)
    if m: seen[m.group(1)].append(datetime.datetime.strptime(m.group(2), "%Y-%m-%dT%H:%M:%S%z").timestamp() - t_kill)
print("; ".join(f"{w}: {len(t)} refused, from {min(t):+.0f}s to {max(t):+.0f}s" for w, t in sorted(seen.items())) or "none")' "$t_kill")
note "  publishes refused by the broker (basic.nack) after the kill, from the workers' logs: $refused"
nothing_parked
reconciled_after=$(since_kill)
sage_latency 0
wait_for 120 "the queues to drain" pipeline_empty
nothing_parked
result=$(day_checks "$day" $batches) || fail "cluster day ($day): $result"
note "  $result; every batch reconciled ${reconciled_after}s after the kill ($(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' "$t_close" "$t_kill")s after the close before it)"
stop_samplers

# --- 3. the workers and the cluster after it ------------------------------------------------------------------
wait_for 240 "every container healthy (the restarted node too)" all_healthy
started_after=$(for id in $worker_ids; do docker inspect -f '{{.Name}} {{.State.StartedAt}} {{.RestartCount}}' "$id"; done)
[ "$started_after" = "$started_before" ] || fail "a worker was restarted during the cluster day: before: $started_before; after: $started_after"
wait_for 120 "every worker connected to the broker" every_worker_connected
note "  every worker connected again by itself (none restarted: same start time, restart count 0); connections after: $(connections_by_node)"
note "  $(quorum_summary)"

# The recovery, from the samples: per series (journals posted, messages handled), the progress after the kill, the
# longest pause in it (from the kill to the first progress, or between two), and when it ended.
recovery=$(python3 - "$flow" "$t_kill" "$t_ready" <<'PY'
import sys
samples = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 3]
t_kill, t_ready = float(sys.argv[2]), float(sys.argv[3])
interval = (samples[-1][0] - samples[0][0]) / max(1, len(samples) - 1)
def series(column):
    best, progress = 0.0, []
    for sample in samples:
        if sample[column] > best:
            if sample[0] > t_kill: progress.append((sample[0], sample[column]))
            best = sample[column]
    at_kill = max((s[column] for s in samples if s[0] <= t_kill), default=0)
    return at_kill, progress
at_kill, journals = series(2)
after = int(journals[-1][1] - at_kill) if journals else 0
if after < 1: sys.exit(f"no journal posted after the kill ({int(at_kill)} before it): the kill was not mid-flow; use a larger day")
lines = [f"{int(at_kill)} journals posted before the kill, {after} after it"]
for name, column in (("journals posted", 2), ("messages handled by transformer, fraud-scorer and sage-loader", 1)):
    base, progress = series(column)
    gaps, previous = [], t_kill
    for t, _ in progress:
        gaps.append((t - previous, previous, t)); previous = t
    longest, start, end = max(gaps)
    before_pause = int(max([v for t, v in progress if t <= start], default=base) - base)
    lines.append(f"{name}: flowing again {end - t_kill:.1f}s after the kill (the longest pause {longest:.1f}s, "
                 f"from +{start - t_kill:.1f}s to +{end - t_kill:.1f}s; {before_pause} in between the kill and the pause)")
lines.append(f"every worker ready at +{t_ready - t_kill:.1f}s; {len(samples)} samples, one per {interval:.2f}s")
print("; ".join(lines))
PY
) || fail "recovery: $recovery"
note "  recovery: $recovery"
note "memory under the cluster day (highest of the docker stats samples, one every 5 s or more):"
note "$(memory_table "$work/stats-day.txt")"
