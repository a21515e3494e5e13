#!/usr/bin/env bash
# Builds the solution (unless --no-build) and starts the six services in the background on 127.0.0.1,
# logs in .data/logs/<Service>.log; waits until the gateway reports every service ready. Each service gets its
# address from its environment (ASPNETCORE_URLS), as in a container. The admin key is PLATFORM_ADMIN_KEY, or
# the one generated into .data/admin-key.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$LOG_DIR" "$PID_DIR" "$Artifacts__Root"
ensure_secrets
export Services__Ingestion="$(service_url Ingestion)" Services__Training="$(service_url Training)"
for cluster in Ingestion Tokenization Training Evaluation Generation; do
  lower="$(echo "$cluster" | tr '[:upper:]' '[:lower:]')"
  export "ReverseProxy__Clusters__${lower}__Destinations__primary__Address=$(service_url "$cluster")"
done

if [ "${1:-}" != "--no-build" ]; then
  log "Building ($BUILD_CONFIGURATION)"
  dotnet build "$REPO_ROOT/Platform.sln" -c "$BUILD_CONFIGURATION" -nologo -v q -clp:ErrorsOnly
fi

for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"; port="${entry##*:}"
  pidfile="$PID_DIR/$name.pid"
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "$name already running (pid $(cat "$pidfile"))"
    continue
  fi
  bin="$REPO_ROOT/services/$name/bin/$BUILD_CONFIGURATION/net10.0"
  [ -f "$bin/$name.dll" ] || die "$bin/$name.dll not found: build first"
  # The content root is the output folder, so each service reads its own appsettings.json.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use: stop what holds it (infra/stop.sh) before starting $name"
  fi
  allocator=""
  [ "$name" = Training ] && allocator="$(training_allocator_env)"
  # exec: the recorded pid is the service itself, so services-down.sh stops the right process.
  # shellcheck disable=SC2086 # the allocator settings are separate words
  (cd "$bin" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" $allocator nohup dotnet "$name.dll" >> "$LOG_DIR/$name.log" 2>&1) &
  echo $! > "$pidfile"
  log "$name started on http://127.0.0.1:$port (pid $(cat "$pidfile"), log $LOG_DIR/$name.log)${allocator:+, ${allocator%% *}}"
done

sleep 2
for entry in "${SERVICES[@]}"; do
  name="${entry%%:*}"
  kill -0 "$(cat "$PID_DIR/$name.pid")" 2>/dev/null || { tail -20 "$LOG_DIR/$name.log" >&2; die "$name exited during start-up"; }
done

log "Waiting for the gateway to report every service ready"
for _ in $(seq 1 180); do
  if curl -fsS "$GATEWAY_URL/health/ready" >/dev/null 2>&1; then
    log "All services ready behind $GATEWAY_URL"
    [ -s "$ADMIN_KEY_FILE" ] && log "Admin API key: $ADMIN_KEY_FILE (send it as 'Authorization: Bearer <key>')"
    exit 0
  fi
  sleep 1
done
curl -sS "$GATEWAY_URL/health/ready" || true
die "services did not become ready in 180 s; see $LOG_DIR"
