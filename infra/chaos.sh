#!/usr/bin/env bash
# Faults on purpose, for game days and the end-to-end tests:
#   bash infra/chaos.sh restart-postgres [seconds down] [infra-up.sh options]   stop PostgreSQL (fast), wait, start it
# again
#   bash infra/chaos.sh restart-rabbitmq [seconds down]                          stop the RabbitMQ application, wait,
# start it
#   bash infra/chaos.sh kill <Service>                                           kill -9 a service run by services-up.sh
# (supervisord restarts it)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
action="${1:-}"; shift || true
case "$action" in
  restart-postgres)
    down="${1:-5}"; shift || true
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    log "PostgreSQL stopped for ${down} s"
    sleep "$down"
    bash "$here/infra-up.sh" "$@" >/dev/null
    log "PostgreSQL started again"
    ;;
  restart-rabbitmq)
    down="${1:-5}"
    rabbit_env
    /usr/lib/rabbitmq/bin/rabbitmqctl -q stop_app >/dev/null
    log "RabbitMQ stopped for ${down} s"
    sleep "$down"
    /usr/lib/rabbitmq/bin/rabbitmqctl -q start_app >/dev/null
    /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null
    log "RabbitMQ started again"
    ;;
  kill)
    name="${1:?name a service}"
    supervisor_running || die "the services are not running under supervisord (infra/services-up.sh)"
    pid="$(supervisorctl -c "$SUPERVISOR_CONF" pid "$name")"
    [ "$pid" -gt 0 ] 2>/dev/null || die "$name is not running"
    kill -9 "$pid"
    log "$name (pid $pid) killed; supervisord starts it again"
    ;;
  *)
    die "usage: chaos.sh restart-postgres [seconds] | restart-rabbitmq [seconds] | kill <Service>"
    ;;
esac
