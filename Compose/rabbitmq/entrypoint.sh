#!/bin/bash
# Entrypoint of the rabbitmq service: prepares the definitions imported at boot, then hands over to
# the image's own entrypoint.
#
# A node that imports definitions at boot creates no default user, so the administrator must be in
# the definitions too. Its password hash (RabbitMQ's salted SHA-256) is computed here from the
# rabbitmq-admin secret; the salt is kept in the data volume so that the file, and therefore its
# content hash, only changes when the password does (definitions.skip_if_unchanged). The topology is
# copied from the mounted Topology/definitions.json. The worker users in it carry no password:
# the one-shot `topology` service sets them (bridgectl topology apply --secrets-dir /run/secrets).
set -euo pipefail

admin_user=${RABBITMQ_ADMIN_USER:-admin}
admin_secret=${RABBITMQ_ADMIN_PASSWORD_FILE:-/run/secrets/rabbitmq-admin}
# The folder rabbitmq.conf's load_definitions names; the paths can be moved for a test run.
definitions=${RABBITMQ_DEFINITIONS_DIR:-/var/lib/rabbitmq/definitions}
topology=${BRIDGE_TOPOLOGY_FILE:-/etc/bridge/definitions.json}
salt_file=${RABBITMQ_ADMIN_SALT_FILE:-/var/lib/rabbitmq/admin-password.salt}
[ -r "$admin_secret" ] || { echo "rabbitmq entrypoint: cannot read $admin_secret (the administrator's password)" >&2; exit 78; }
password=$(tr -d '\r\n' < "$admin_secret")

mkdir -p "$definitions"
# The salt. With the Erlang cookie at hand (always in Compose), it is derived from the cookie, so that every node of a
# cluster writes the same file: skip_if_unchanged compares with one hash kept cluster-wide, and a node whose file
# differed would import it again at every boot, resetting the worker users' passwords (they have none in the file)
# under the running workers. Without a cookie (a test run), it is random and kept in the data volume.
cookie_file=${RABBITMQ_ERLANG_COOKIE_FILE:-/run/secrets/rabbitmq-cookie}
if [ -r "$cookie_file" ]; then
  salt=$({ printf 'bridge admin password salt:'; tr -d '\r\n' < "$cookie_file"; } | sha256sum | cut -c1-8)
  printf '%s' "$salt" > "$salt_file"
else
  [ -s "$salt_file" ] || head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$salt_file"
  salt=$(cat "$salt_file")
fi

hex_to_bytes() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }
digest=$({ hex_to_bytes "$salt"; printf '%s' "$password"; } | sha256sum | cut -c1-64)
hash=$({ hex_to_bytes "$salt"; hex_to_bytes "$digest"; } | base64 -w0)

cat > "$definitions/00-admin.json" <<JSON
{
  "vhosts": [{"name": "/"}],
  "users": [{"name": "$admin_user", "password_hash": "$hash",
             "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}],
  "permissions": [{"user": "$admin_user", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]
}
JSON
cp "$topology" "$definitions/10-topology.json"
[ "$(id -u)" != 0 ] || chown -R rabbitmq:rabbitmq "$definitions" "$salt_file"

# The memory alarm's threshold: 60 % of the container's memory limit, written as an absolute value. RabbitMQ does not
# always see a cgroup's limit (its documentation advises an absolute threshold in containers); its relative threshold
# would then be 60 % of the host's memory, above the limit, and the kernel would kill the node where the alarm should
# have blocked the publishers for a while. Without a limit: 60 % of what RabbitMQ sees.
conf_dir=${RABBITMQ_CONF_DIR:-/etc/rabbitmq/conf.d}
mkdir -p "$conf_dir"
memory_limit() {  # the container's memory limit in bytes (cgroup v2, then v1); fails when there is none
  local file limit
  for file in ${RABBITMQ_CGROUP_MEMORY_FILES:-/sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes}; do
    [ -r "$file" ] || continue
    limit=$(tr -d '[:space:]' < "$file")
    case "$limit" in '' | *[!0-9]*) return 1 ;; esac  # "max": none
    [ "$limit" -lt $((1 << 50)) ] || return 1  # cgroup v1 says "none" with the largest page-aligned number
    echo "$limit"
    return 0
  done
  return 1
}
if limit=$(memory_limit); then
  echo "vm_memory_high_watermark.absolute = $((limit / 10 * 6))" > "$conf_dir/10-memory.conf"
else
  echo "vm_memory_high_watermark.relative = 0.6" > "$conf_dir/10-memory.conf"
fi

# A cluster (the `cluster` profile): every node gets the same Erlang cookie from a secret, and the node list for
# classic-config peer discovery, with pause_minority (docs/DEPLOYMENT.md, "Several hosts").
if [ -r "$cookie_file" ]; then
  home=${RABBITMQ_HOME_DIR:-/var/lib/rabbitmq}
  tr -d '\r\n' < "$cookie_file" > "$home/.erlang.cookie"
  chmod 400 "$home/.erlang.cookie"
  [ "$(id -u)" != 0 ] || chown rabbitmq:rabbitmq "$home/.erlang.cookie"
fi
if [ -n "${RABBITMQ_CLUSTER_NODES:-}" ]; then
  {
    echo "cluster_formation.peer_discovery_backend = classic_config"
    i=0
    for node in ${RABBITMQ_CLUSTER_NODES//,/ }; do i=$((i + 1)); echo "cluster_formation.classic_config.nodes.$i = $node"; done
    echo "cluster_partition_handling = pause_minority"
  } > "$conf_dir/20-cluster.conf"
fi

exec docker-entrypoint.sh "$@"
