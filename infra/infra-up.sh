#!/usr/bin/env bash
# Starts PostgreSQL 15 and RabbitMQ on 127.0.0.1 as ordinary processes with their data under .data/.
# Safe to run when they are already up. Creates the platform database and the RabbitMQ virtual hosts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$DATA_DIR" "$LOG_DIR" "$PID_DIR"

start_postgres() {
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    log "Initialising PostgreSQL in $PG_DATA"
    mkdir -p "$PG_DATA"
    local pwfile="$DATA_DIR/.pgpass-init"
    printf '%s\n' "$PG_PASSWORD" > "$pwfile"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DATA" "$pwfile"; fi
    chmod 700 "$PG_DATA"
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
  fi
  if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    log "Starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  fi
  for db in "$PG_DATABASE" "$@"; do
    if ! as_postgres psql -h "$PG_DATA" -p "$PG_PORT" -U "$PG_USER" -d postgres \
           -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      as_postgres psql -h "$PG_DATA" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
    fi
  done
}

start_rabbitmq() {
  rabbit_env
  mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  # An hour's consumer timeout: no consumer holds a delivery that long (training runs are held by leases in
  # PostgreSQL, not by their StartTraining message); tokenizing a very large corpus is the longest.
  cat > "$RABBITMQ_CONFIG_FILE.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$RABBIT_PORT
consumer_timeout = 3600000
loopback_users.guest = true
log.console = false
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RABBIT_PROMETHEUS_PORT
CONF
  # Its Prometheus exporter only (no management UI): queue depths for infra/observability's alerts.
  echo '[rabbitmq_prometheus].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  if /usr/lib/rabbitmq/bin/rabbitmqctl -q -t 5 status >/dev/null 2>&1; then
    log "RabbitMQ already running on 127.0.0.1:$RABBIT_PORT"
  else
    log "Starting RabbitMQ on 127.0.0.1:$RABBIT_PORT"
    nohup /usr/lib/rabbitmq/bin/rabbitmq-server > "$LOG_DIR/rabbitmq.out" 2>&1 &
    echo $! > "$PID_DIR/rabbitmq.pid"
    # The node takes a few seconds to register; await_startup gives up at once if it is not there yet.
    for _ in $(seq 1 120); do
      /usr/lib/rabbitmq/bin/rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
      if ! kill -0 "$(cat "$PID_DIR/rabbitmq.pid")" 2>/dev/null; then
        tail -30 "$LOG_DIR/rabbitmq.out" >&2
        die "RabbitMQ exited during start-up"
      fi
      sleep 1
    done
    /usr/lib/rabbitmq/bin/rabbitmqctl -q -t 120 await_startup >/dev/null \
      || { tail -30 "$LOG_DIR/rabbitmq.out" >&2; die "RabbitMQ did not start"; }
  fi
  # The platform's own vhost admits only the services' users (services-up.sh makes them); the tests' vhosts admit
  # guest, which RabbitMQ lets connect from loopback only.
  /usr/lib/rabbitmq/bin/rabbitmqctl -q add_vhost "$RABBIT_VHOST" >/dev/null 2>&1 || true
  /usr/lib/rabbitmq/bin/rabbitmqctl -q clear_permissions -p "$RABBIT_VHOST" guest >/dev/null 2>&1 || true
  for vhost in "$@"; do
    /usr/lib/rabbitmq/bin/rabbitmqctl -q add_vhost "$vhost" >/dev/null 2>&1 || true
    /usr/lib/rabbitmq/bin/rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
  done
}

# Extra databases / virtual hosts (e.g. for the tests) may be named: infra-up.sh --test
if [ "${1:-}" = "--test" ]; then
  start_postgres platform_test
  start_rabbitmq platform-test
else
  start_postgres
  start_rabbitmq
fi
log "Infrastructure ready"
