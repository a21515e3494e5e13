#!/usr/bin/env bash
# Writes the dev overlay's Secret files with fresh random credentials (once: existing files are kept).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -e "$here/platform-infra.env" ] && { echo "secrets already written in $here"; exit 0; }
token() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
umask 077
printf 'POSTGRES_PASSWORD=%s\nRABBITMQ_DEFAULT_PASS=%s\n' "$(token)" "$(token)" > "$here/platform-infra.env"
printf 'PLATFORM_INTERNAL_SECRET=%s\n' "$(token)" > "$here/platform-secrets.env"
# Each service's own database role (made by the db-roles Job) and broker user (imported by the broker at start),
# their passwords also given to those two; the gateway sends no message, so it has no broker user.
for service in gateway ingestion tokenization training evaluation generation; do
  upper="$(echo "$service" | tr '[:lower:]' '[:upper:]')" database=$(token)
  printf 'DB_PASSWORD_%s=%s\n' "$upper" "$database" >> "$here/platform-infra.env"
  printf 'ConnectionStrings__Platform=Host=postgres;Port=5432;Database=platform;Username=platform_%s;Password=%s\n' \
    "$service" "$database" > "$here/platform-$service.env"
  if [ "$service" != gateway ]; then
    broker=$(token)
    printf 'BROKER_PASSWORD_%s=%s\n' "$upper" "$broker" >> "$here/platform-infra.env"
    printf 'ConnectionStrings__RabbitMq=amqp://platform-%s:%s@rabbitmq:5672/\n' "$service" "$broker" \
      >> "$here/platform-$service.env"
  fi
done
printf 'PLATFORM_ADMIN_KEY=%s\n' "$(token)" > "$here/platform-admin.env"
echo "wrote platform-infra.env, platform-secrets.env, platform-admin.env and platform-<service>.env in $here"
