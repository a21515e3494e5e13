#!/usr/bin/env bash
# Restores a backup made by infra/backup.sh: the database is dropped and created again from the dump, and the
# artifact store is emptied and filled from the archive, so the platform is exactly as it was when the backup was
# taken (runs, versions, keys, audit log and files alike):
#   bash infra/restore.sh DIR [--no-stop]
# The services are stopped meanwhile (under supervisord: started again after); with --no-stop the caller has stopped
# them. The manifest's checksums are verified first: a damaged backup restores nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
source_dir="${1:?usage: infra/restore.sh DIR [--no-stop]}"
stop=1
[ "${2:-}" = "--no-stop" ] && stop=0
artifacts="${Artifacts__Root:-$DATA_DIR/artifacts}"
[ -f "$source_dir/manifest.txt" ] || die "$source_dir holds no backup (no manifest.txt)"
(cd "$source_dir" && grep -E '^[0-9a-f]{64}  ' manifest.txt | sha256sum --check --quiet) \
  || die "the backup in $source_dir does not match its manifest: nothing restored"

[ "$stop" = 0 ] || pause_services

export PGPASSWORD="$PG_PASSWORD"
psql_admin() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qX -v ON_ERROR_STOP=1 "$@"; }
log "Recreating database $PG_DATABASE from the dump"
psql_admin -c "DROP DATABASE IF EXISTS \"$PG_DATABASE\" WITH (FORCE)" -c "CREATE DATABASE \"$PG_DATABASE\""
"$PG_BIN/pg_restore" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DATABASE" --exit-on-error \
  "$source_dir/database.dump"
log "Refilling the artifact store $artifacts"
mkdir -p "$artifacts"
find "$artifacts" -mindepth 1 -delete
tar -C "$artifacts" -xzf "$source_dir/artifacts.tar.gz"
log "Restored the backup taken $(sed -n 's/^taken: //p' "$source_dir/manifest.txt")"
