#!/usr/bin/env bash
# Stops the services started by services-up.sh, and the supervisord that keeps them running.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if supervisor_running; then
  supervisorctl -c "$SUPERVISOR_CONF" stop all >/dev/null
  supervisorctl -c "$SUPERVISOR_CONF" shutdown >/dev/null
  for _ in $(seq 1 40); do supervisor_running || break; sleep 0.5; done
  log "services and supervisord stopped"
fi
# Services started by hand or by an older version of services-up.sh (pid files).
for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"
  pidfile="$PID_DIR/$name.pid"
  [ -s "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    log "$name stopped"
  fi
  rm -f "$pidfile"
done
