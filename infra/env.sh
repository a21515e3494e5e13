# Shared settings of the local stack; sourced by the other scripts. Every value can be overridden from the
# environment. Data lives under .data/ in the checkout (git-ignored).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${PLATFORM_DATA_DIR:-$REPO_ROOT/.data}"
LOG_DIR="$DATA_DIR/logs"
PID_DIR="$DATA_DIR/pids"

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_PORT="${PG_PORT:-55432}"
PG_USER="${PG_USER:-platform}"
PG_DATABASE="${PG_DATABASE:-platform}"
PG_DATA="$DATA_DIR/postgres"
# PostgreSQL refuses to run as root, so as root it runs as the 'postgres' user, who must be able to reach
# .data/. Where the checkout's folders do not let it (e.g. a private home), its data goes under its own home.
mkdir -p "$DATA_DIR"
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1 && ! runuser -u postgres -- test -x "$DATA_DIR" 2>/dev/null; then
  PG_DATA="/var/lib/postgresql/platform-$(printf %s "$REPO_ROOT" | md5sum | cut -c1-12)"
fi

RABBIT_PORT="${RABBIT_PORT:-5673}"
# RabbitMQ's Prometheus exporter (queue depths), on loopback like the broker.
RABBIT_PROMETHEUS_PORT="${RABBIT_PROMETHEUS_PORT:-15693}"
RABBIT_DIST_PORT="${RABBIT_DIST_PORT:-25673}"
RABBIT_VHOST="${RABBIT_VHOST:-platform}"
RABBIT_NODE="${RABBIT_NODE:-platform@localhost}"
RABBIT_BASE="$DATA_DIR/rabbitmq"

GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8080}"
BUILD_CONFIGURATION="${BUILD_CONFIGURATION:-Release}"

# Name, port: the six services of the platform. The one table of their addresses: services-up.sh derives each
# service's ASPNETCORE_URLS, the gateway's cluster addresses and the services' addresses of each other from it.
SERVICES=(Gateway:8080 Ingestion:8081 Tokenization:8082 Training:8083 Evaluation:8084 Generation:8085)
service_port() { local e; for e in "${SERVICES[@]}"; do [ "${e%%:*}" = "$1" ] && { echo "${e##*:}"; return; }; done; }
service_url() { echo "http://127.0.0.1:$(service_port "$1")"; }

# Secrets, generated once into .data/ (mode 600) unless given in the environment: the first admin API key
# (PLATFORM_ADMIN_KEY) and the secret the gateway signs callers' identities with (PLATFORM_INTERNAL_SECRET).
ADMIN_KEY_FILE="$DATA_DIR/admin-key"
INTERNAL_SECRET_FILE="$DATA_DIR/internal-secret"
random_token() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
ensure_secrets() {
  local mask
  mask="$(umask)"
  umask 077
  if [ -z "${PLATFORM_ADMIN_KEY:-}" ]; then
    [ -s "$ADMIN_KEY_FILE" ] || printf 'plk_%s\n' "$(random_token)" > "$ADMIN_KEY_FILE"
    chmod 600 "$ADMIN_KEY_FILE"
    PLATFORM_ADMIN_KEY="$(cat "$ADMIN_KEY_FILE")"
  fi
  if [ -z "${PLATFORM_INTERNAL_SECRET:-}" ]; then
    [ -s "$INTERNAL_SECRET_FILE" ] || printf '%s%s\n' "$(random_token)" "$(random_token)" > "$INTERNAL_SECRET_FILE"
    chmod 600 "$INTERNAL_SECRET_FILE"
    PLATFORM_INTERNAL_SECRET="$(cat "$INTERNAL_SECRET_FILE")"
  fi
  umask "$mask"
  export PLATFORM_ADMIN_KEY PLATFORM_INTERNAL_SECRET
}

# Each service's own secrets, generated once into .data/secrets/ (mode 600): its database role's password
# (service_secret db Gateway) and its broker user's (service_secret broker Gateway).
service_secret() {
  local file="$DATA_DIR/secrets/$1-$(echo "$2" | tr '[:upper:]' '[:lower:]')"
  if [ ! -s "$file" ]; then
    (umask 077; mkdir -p "$DATA_DIR/secrets"; random_token > "$file")
  fi
  cat "$file"
}

# The superuser's password: generated for a new cluster (infra-up.sh initialises it with it). A cluster initialised
# before passwords were generated keeps the one it was made with.
PG_PASSWORD_FILE="$DATA_DIR/postgres-password"
if [ -z "${PG_PASSWORD:-}" ]; then
  if [ ! -s "$PG_PASSWORD_FILE" ]; then
    if [ -e "$PG_DATA/PG_VERSION" ]; then legacy=platform; else legacy="$(random_token)"; fi
    (umask 077; printf '%s\n' "$legacy" > "$PG_PASSWORD_FILE")
  fi
  PG_PASSWORD="$(cat "$PG_PASSWORD_FILE")"
fi

# Each service's database role and broker user (infra/db/roles.sql, services-up.sh): Username=platform_<service>.
DB_ROLE_PREFIX="${DB_ROLE_PREFIX:-platform}"
service_database() {
  local lower
  lower="$(echo "$1" | tr '[:upper:]' '[:lower:]')"
  printf 'Host=127.0.0.1;Port=%s;Database=%s;Username=%s_%s;Password=%s\n' \
    "$PG_PORT" "$PG_DATABASE" "$DB_ROLE_PREFIX" "$lower" "$(service_secret db "$1")"
}
service_broker() {
  local lower
  lower="$(echo "$1" | tr '[:upper:]' '[:lower:]')"
  echo "amqp://platform-$lower:$(service_secret broker "$1")@127.0.0.1:$RABBIT_PORT/$RABBIT_VHOST"
}

superuser_database="Host=127.0.0.1;Port=$PG_PORT;Database=$PG_DATABASE;Username=$PG_USER;Password=$PG_PASSWORD"
export ConnectionStrings__Platform="${ConnectionStrings__Platform:-$superuser_database}"
guest_broker="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/$RABBIT_VHOST"
export ConnectionStrings__RabbitMq="${ConnectionStrings__RabbitMq:-$guest_broker}"
export Artifacts__Root="${Artifacts__Root:-$DATA_DIR/artifacts}"
# oneDNN keeps each compiled kernel (primitive) it made, one per shape and type, up to this many per process: about
# 190 KiB each (docs/operations.md, "Memory"). Training needs a few dozen; decoding through LibTorch with bf16, LoRA or
# an encoder-decoder needs two a layer's shape per sequence length. 1,024 is oneDNN's default, stated here as the bound.
export ONEDNN_PRIMITIVE_CACHE_CAPACITY="${ONEDNN_PRIMITIVE_CACHE_CAPACITY:-1024}"

# RabbitMQ runs as a plain process with everything under .data/rabbitmq (HOME holds its Erlang cookie).
rabbit_env() {
  export HOME="$RABBIT_BASE/home"
  mkdir -p "$HOME"
  export RABBITMQ_NODENAME="$RABBIT_NODE"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$RABBIT_PORT"
  export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$RABBIT_BASE/mnesia"
  export RABBITMQ_LOG_BASE="$RABBIT_BASE/log"
  export RABBITMQ_CONFIG_FILE="$RABBIT_BASE/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_BASE/enabled_plugins"
  export RABBITMQ_PID_FILE="$RABBIT_BASE/rabbitmq.pid"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# Training's allocator. LibTorch frees and reallocates the same large activation buffers every step: glibc's
# malloc fragments its heap (and zeroes fresh pages for what it maps), jemalloc keeping freed pages for reuse
# does neither. Baby GPT, bf16, 2 threads: 3.5 s/iter at 4.9 GiB peak with glibc, 2.7 s/iter at 2.6 GiB with
# this. The training service hands the pages back after each run (TorchRuntime.ReleaseFreeMemory).
# TRAINING_ALLOCATOR=glibc turns it off.
TRAINING_ALLOCATOR="${TRAINING_ALLOCATOR:-jemalloc}"
TRAINING_MALLOC_CONF="${TRAINING_MALLOC_CONF:-dirty_decay_ms:-1,muzzy_decay_ms:-1}"
jemalloc_path() {
  local f
  for f in /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /usr/lib/aarch64-linux-gnu/libjemalloc.so.2 \
           /usr/lib64/libjemalloc.so.2; do
    [ -f "$f" ] && { echo "$f"; return; }
  done
}

# Prints the environment (KEY=VALUE words for env) that runs a training process on the chosen allocator.
training_allocator_env() {
  local lib
  lib="$(jemalloc_path)"
  if [ "$TRAINING_ALLOCATOR" = jemalloc ] && [ -n "$lib" ]; then
    echo "LD_PRELOAD=$lib MALLOC_CONF=$TRAINING_MALLOC_CONF"
  fi
}

SUPERVISOR_CONF="$PID_DIR/supervisord.conf"
supervisor_running() {
  [ -s "$PID_DIR/supervisord.pid" ] && kill -0 "$(cat "$PID_DIR/supervisord.pid")" 2>/dev/null
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Stops the services under supervisord until the calling script exits, when they start again (backup and restore
# take the database and the artifacts while nothing writes them).
pause_services() {
  supervisor_running || return 0
  log "Stopping the services while the database and the artifacts are taken"
  supervisorctl -c "$SUPERVISOR_CONF" stop all >/dev/null
  trap 'supervisorctl -c "$SUPERVISOR_CONF" start all >/dev/null' EXIT
}
log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
