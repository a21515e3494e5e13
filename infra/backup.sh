#!/usr/bin/env bash
# Backs up the platform: every schema of its database (one pg_dump of the whole database: gateway, ingestion,
# tokenization, training, registry, evaluation, generation) and the artifact store (Artifacts__Root), into DIR:
#   bash infra/backup.sh DIR [--no-stop]
# The two must agree, so the services are stopped while both are taken (under supervisord: started again after).
# With --no-stop the caller has stopped them. Restore with infra/restore.sh DIR. The database and artifact folder are
# env.sh's (PG_PORT, PG_USER, PG_PASSWORD, PG_DATABASE, Artifacts__Root), each overridable from the environment.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
target="${1:?usage: infra/backup.sh DIR [--no-stop]}"
stop=1
[ "${2:-}" = "--no-stop" ] && stop=0
artifacts="${Artifacts__Root:-$DATA_DIR/artifacts}"
[ -d "$artifacts" ] || die "no artifact store at $artifacts (set Artifacts__Root)"
mkdir -p "$target"
target="$(cd "$target" && pwd)"

[ "$stop" = 0 ] || pause_services

log "Dumping database $PG_DATABASE (every schema)"
PGPASSWORD="$PG_PASSWORD" "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" \
  --format=custom --file="$target/database.dump"
log "Archiving the artifact store $artifacts"
tar -C "$artifacts" -czf "$target/artifacts.tar.gz" .
{
  echo "taken: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "database: $PG_DATABASE"
  (cd "$target" && sha256sum database.dump artifacts.tar.gz)
} >"$target/manifest.txt"
log "Backup in $target: $(du -sh "$target" | cut -f1)"
