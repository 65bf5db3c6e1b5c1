#!/bin/bash
# Entrypoint of every bridge container: turns mounted secrets into what the executables read, then
# execs the command (so the executable is PID 1 and gets SIGTERM for its graceful shutdown).
#
#   BRIDGE_AMQP_USER=sage-loader    the worker's own RabbitMQ user; its password is read from
#                                   /run/secrets/<user> (or BRIDGE_AMQP_PASSWORD_FILE) and
#                                   BRIDGE_AMQP_URL is built as amqp://user:pass@HOST:PORT/VHOST
#   BRIDGE_AMQP_HOST (rabbitmq; a cluster: rabbitmq,rabbitmq-2,rabbitmq-3), BRIDGE_AMQP_PORT (5672), BRIDGE_AMQP_VHOST (/), BRIDGE_AMQP_SCHEME (amqp),
#   BRIDGE_AMQP_QUERY (heartbeat=30)
#   BRIDGE_CONSOLE_AMQP_USER=operations-console   the same for the alerter's operations console:
#                                   BRIDGE_CONSOLE_AMQP_URL from /run/secrets/<user> (or BRIDGE_CONSOLE_AMQP_PASSWORD_FILE)
#   BRIDGE_MANAGEMENT_USER=admin    for bridgectl: BRIDGE_MANAGEMENT_URL from /run/secrets/rabbitmq-admin
#                                   (or BRIDGE_MANAGEMENT_PASSWORD_FILE), host BRIDGE_MANAGEMENT_HOST:PORT
#   BRIDGE_SECRET_ENV="NAME ..."    for executables that only read variables (the simulators): each
#                                   NAME is set from the file named by NAME_FILE
#
# A URL given explicitly (BRIDGE_AMQP_URL, BRIDGE_MANAGEMENT_URL) is used as is.
set -euo pipefail

die() { echo "bridge-entrypoint: $*" >&2; exit 78; }  # 78: configuration error (sysexits)

# Percent-encodes every byte outside RFC 3986's unreserved set, so any password fits in a URL.
urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [a-zA-Z0-9._~-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

read_secret() {  # file, what it is for
  [ -r "$1" ] || die "cannot read $1 ($2); add it under secrets: in docker-compose.yml (Compose/generate-secrets creates them)"
  tr -d '\r\n' < "$1"
}

amqp_url() {  # user, password file
  local password vhost
  # `|| return`: errexit does not apply inside a function called from `x=$(f) || …`.
  password=$(read_secret "$2" "password of RabbitMQ user $1") || return $?
  vhost=${BRIDGE_AMQP_VHOST:-/}
  [ "$vhost" = / ] && vhost="" || vhost=$(urlencode "$vhost")
  # BRIDGE_AMQP_HOST may name the nodes of a cluster, comma-separated: one URL per node, comma-separated (failover).
  local host hosts urls=()
  IFS=, read -r -a hosts <<< "${BRIDGE_AMQP_HOST:-rabbitmq}"
  for host in "${hosts[@]}"; do
    urls+=("${BRIDGE_AMQP_SCHEME:-amqp}://$(urlencode "$1"):$(urlencode "$password")@$host:${BRIDGE_AMQP_PORT:-5672}/$vhost?${BRIDGE_AMQP_QUERY:-heartbeat=30}")
  done
  (IFS=,; printf '%s' "${urls[*]}")
}

if [ -z "${BRIDGE_AMQP_URL:-}" ] && [ -n "${BRIDGE_AMQP_USER:-}" ]; then
  url=$(amqp_url "$BRIDGE_AMQP_USER" "${BRIDGE_AMQP_PASSWORD_FILE:-/run/secrets/$BRIDGE_AMQP_USER}") || exit $?
  export BRIDGE_AMQP_URL="$url"
fi

if [ -z "${BRIDGE_CONSOLE_AMQP_URL:-}" ] && [ -n "${BRIDGE_CONSOLE_AMQP_USER:-}" ]; then
  url=$(amqp_url "$BRIDGE_CONSOLE_AMQP_USER" "${BRIDGE_CONSOLE_AMQP_PASSWORD_FILE:-/run/secrets/$BRIDGE_CONSOLE_AMQP_USER}") || exit $?
  export BRIDGE_CONSOLE_AMQP_URL="$url"
fi

if [ -z "${BRIDGE_MANAGEMENT_URL:-}" ] && [ -n "${BRIDGE_MANAGEMENT_USER:-}" ]; then
  password=$(read_secret "${BRIDGE_MANAGEMENT_PASSWORD_FILE:-/run/secrets/rabbitmq-admin}" "password of RabbitMQ user $BRIDGE_MANAGEMENT_USER")
  export BRIDGE_MANAGEMENT_URL="http://$(urlencode "$BRIDGE_MANAGEMENT_USER"):$(urlencode "$password")@${BRIDGE_MANAGEMENT_HOST:-rabbitmq}:${BRIDGE_MANAGEMENT_PORT:-15672}"
fi

for name in ${BRIDGE_SECRET_ENV:-}; do
  file_var="${name}_FILE"
  [ -n "${!file_var:-}" ] || die "$name is listed in BRIDGE_SECRET_ENV but $file_var is not set"
  export "$name=$(read_secret "${!file_var}" "$name")"
done

[ $# -gt 0 ] || die "no command given"
exec "$@"
