#!/usr/bin/env bash
# Builds the solution (unless --no-build) and starts the six services on 127.0.0.1 under supervisord (Debian's
# supervisor package): a service that dies, whatever killed it, is started again. Logs in .data/logs/<Service>.log;
# waits until the gateway reports every service ready. Each service gets its address from its environment
# (ASPNETCORE_URLS), as in a container; everything else is inherited from this script's environment by supervisord,
# and each service logs in to PostgreSQL and RabbitMQ as its own role and user (infra/run-service.sh reads their
# generated passwords), so no secret is written into its configuration. The admin key is PLATFORM_ADMIN_KEY, or the
# one generated into .data/admin-key.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
mkdir -p "$LOG_DIR" "$PID_DIR" "$Artifacts__Root"
ensure_secrets
export Services__Ingestion="$(service_url Ingestion)" Services__Training="$(service_url Training)"
for cluster in Ingestion Tokenization Training Evaluation Generation; do
  lower="$(echo "$cluster" | tr '[:upper:]' '[:lower:]')"
  export "ReverseProxy__Clusters__${lower}__Destinations__primary__Address=$(service_url "$cluster")"
done
command -v supervisord >/dev/null \
  || die "supervisord not found: run infra/setup.sh (it installs Debian's supervisor package)"

if [ "${1:-}" != "--no-build" ]; then
  log "Building ($BUILD_CONFIGURATION)"
  dotnet build "$REPO_ROOT/Platform.sln" -c "$BUILD_CONFIGURATION" -nologo -v q -clp:ErrorsOnly
fi

psql_superuser() {
  PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" -qX "$@"
}

# Each service's database role (infra/db/roles.sql) and broker user, made or brought up to date, with the passwords
# generated into .data/secrets/ (given on standard input, not on a command line others could read).
log "Giving each service its own database role and broker user"
{
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"
    echo "\\set pw_$(echo "$name" | tr '[:upper:]' '[:lower:]') '$(service_secret db "$name")'"
  done
  echo "\\i $REPO_ROOT/infra/db/roles.sql"
} | psql_superuser -v prefix="$DB_ROLE_PREFIX" -v db="$PG_DATABASE" -f - >/dev/null
(
  rabbit_env
  users="$(/usr/lib/rabbitmq/bin/rabbitmqctl -q list_users --no-table-headers 2>/dev/null | cut -f1)"
  for entry in "${SERVICES[@]}"; do
    name="${entry%%:*}"; user="platform-$(echo "$name" | tr '[:upper:]' '[:lower:]')"
    [ "$name" = Gateway ] && continue  # the gateway sends no message
    if ! grep -qx "$user" <<<"$users"; then
      service_secret broker "$name" | /usr/lib/rabbitmq/bin/rabbitmqctl -q add_user "$user" >/dev/null
    fi
    /usr/lib/rabbitmq/bin/rabbitmqctl -q set_permissions -p "$RABBIT_VHOST" "$user" '.*' '.*' '.*' >/dev/null
  done
)

if supervisor_running; then
  log "supervisord already running; starting any service it has stopped"
  supervisorctl -c "$SUPERVISOR_CONF" start all >/dev/null || true
else
  {
    cat <<CONF
; Written by infra/services-up.sh: the platform's services under supervisord (restarted whenever they exit).
[unix_http_server]
file=$PID_DIR/supervisor.sock
chmod=0700

[supervisord]
logfile=$LOG_DIR/supervisord.log
pidfile=$PID_DIR/supervisord.pid
childlogdir=$LOG_DIR

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://$PID_DIR/supervisor.sock
CONF
    for entry in "${SERVICES[@]}"; do
      name="${entry%%:*}"; port="${entry##*:}"
      bin="$REPO_ROOT/services/$name/bin/$BUILD_CONFIGURATION/net10.0"
      [ -f "$bin/$name.dll" ] || die "$bin/$name.dll not found: build first"
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port is already in use: stop what holds it (infra/stop.sh) before starting $name"
      fi
      environment="ASPNETCORE_URLS=\"http://127.0.0.1:$port\""
      if [ "$name" = Training ]; then
        for setting in $(training_allocator_env); do environment="$environment,${setting%%=*}=\"${setting#*=}\""; done
      fi
      # The content root is the output folder, so each service reads its own appsettings.json.
      cat <<CONF

[program:$name]
command=$REPO_ROOT/infra/run-service.sh $name
directory=$bin
environment=$environment
autostart=true
autorestart=true
startsecs=3
startretries=100
stopsignal=TERM
stopwaitsecs=30
stdout_logfile=$LOG_DIR/$name.log
stdout_logfile_maxbytes=50MB
stdout_logfile_backups=3
redirect_stderr=true
CONF
    done
  } > "$SUPERVISOR_CONF"
  chmod 600 "$SUPERVISOR_CONF"
  supervisord -c "$SUPERVISOR_CONF"
  log "supervisord started ($SUPERVISOR_CONF): services are restarted when they exit"
fi

log "Waiting for the gateway to report every service ready"
for _ in $(seq 1 180); do
  if curl -fsS "$GATEWAY_URL/health/ready" >/dev/null 2>&1; then
    supervisorctl -c "$SUPERVISOR_CONF" status | sed 's/^/    /'
    # The gateway has migrated: its audit table goes to a role nobody logs in as (INSERT and SELECT left to it).
    psql_superuser -v prefix="$DB_ROLE_PREFIX" -f "$REPO_ROOT/infra/db/audit-lock.sql" >/dev/null
    log "All services ready behind $GATEWAY_URL"
    [ -s "$ADMIN_KEY_FILE" ] && log "Admin API key: $ADMIN_KEY_FILE (send it as 'Authorization: Bearer <key>')"
    exit 0
  fi
  sleep 1
done
supervisorctl -c "$SUPERVISOR_CONF" status || true
# Which service is not ready is told to an admin only.
curl -sS -H "Authorization: Bearer $PLATFORM_ADMIN_KEY" "$GATEWAY_URL/health/ready" || true
die "services did not become ready in 180 s; see $LOG_DIR"
