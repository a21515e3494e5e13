#!/usr/bin/env bash
# Stops the local PostgreSQL and RabbitMQ started by infra-up.sh (data is kept under .data/).
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ -s "$PG_DATA/PG_VERSION" ]; then
  as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 && log "PostgreSQL stopped"
fi
rabbit_env
if /usr/lib/rabbitmq/bin/rabbitmqctl -q -t 5 status >/dev/null 2>&1; then
  /usr/lib/rabbitmq/bin/rabbitmqctl -q stop >/dev/null 2>&1 && log "RabbitMQ stopped"
fi
rm -f "$PID_DIR/rabbitmq.pid"
