#!/usr/bin/env bash
# Writes the dev overlay's Secret files with fresh random credentials (once: existing files are kept).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -e "$here/platform-infra.env" ] && { echo "secrets already written in $here"; exit 0; }
token() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
pg=$(token) mq=$(token)
umask 077
printf 'POSTGRES_PASSWORD=%s\nRABBITMQ_DEFAULT_PASS=%s\n' "$pg" "$mq" > "$here/platform-infra.env"
printf 'ConnectionStrings__RabbitMq=amqp://platform:%s@rabbitmq:5672/\nPLATFORM_INTERNAL_SECRET=%s\n' \
  "$mq" "$(token)" > "$here/platform-secrets.env"
# Each service's own database role (made by the db-roles Job), its password also given to that Job.
for service in gateway ingestion tokenization training evaluation generation; do
  password=$(token)
  printf 'DB_PASSWORD_%s=%s\n' "$(echo "$service" | tr '[:lower:]' '[:upper:]')" "$password" >> "$here/platform-infra.env"
  printf 'ConnectionStrings__Platform=Host=postgres;Port=5432;Database=platform;Username=platform_%s;Password=%s\n' \
    "$service" "$password" > "$here/platform-db-$service.env"
done
printf 'PLATFORM_ADMIN_KEY=%s\n' "$(token)" > "$here/platform-admin.env"
echo "wrote platform-infra.env, platform-secrets.env, platform-admin.env and platform-db-<service>.env in $here"
