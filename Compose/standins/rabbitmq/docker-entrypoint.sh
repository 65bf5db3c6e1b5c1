#!/bin/sh
# The part of the upstream image's entrypoint that Compose/rabbitmq/entrypoint.sh relies on: run the server as
# user rabbitmq in the foreground, as PID 1's direct replacement, so `docker stop` reaches it with SIGTERM.
# (Debian's /usr/sbin/rabbitmq-server wrapper would `su` and write its output to a file instead.)
set -eu
if [ "${1:-}" = rabbitmq-server ]; then
  shift
  [ "$(id -u)" != 0 ] || chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /var/log/rabbitmq
  cd /var/lib/rabbitmq
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
  fi
  exec /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi
exec "$@"
