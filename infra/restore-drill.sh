#!/usr/bin/env bash
# The restore drill, run by infra/test.sh: start the stack on a database, virtual host and artifact folder of the
# drill's own, train a small model and generate from it with a fixed seed; back up with infra/backup.sh, wipe the
# database and the artifact store, restore with infra/restore.sh; the same model, seed and prompt must give the
# same text. Exits non-zero (saying why) if anything differs. It will not run beside a running stack (the demo).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PG_DATABASE=platform_drill RABBIT_VHOST=platform-drill PGOPTIONS=--client-min-messages=warning
source "$here/env.sh"
ensure_secrets
export Artifacts__Root="$DATA_DIR/drill-artifacts"
supervisor_running && die "a stack is running (infra/stop.sh stops it); the drill starts its own"
backup="$DATA_DIR/drill-backup"
rm -rf "$backup" "$Artifacts__Root"
trap 'bash "$here/services-down.sh" >/dev/null 2>&1 || true' EXIT

bash "$here/infra-up.sh" >/dev/null
# A drill starts from nothing: an empty database of its own.
PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qX \
  -c "DROP DATABASE IF EXISTS \"$PG_DATABASE\" WITH (FORCE)" -c "CREATE DATABASE \"$PG_DATABASE\""
bash "$here/services-up.sh" --no-build >/dev/null
auth=(-H "Authorization: Bearer $PLATFORM_ADMIN_KEY")

spec='{"name":"drill-model","model":{"nLayer":1,"nHead":2,"nEmbd":32,"blockSize":32,"dropout":0.0},
       "training":{"maxSteps":40,"batchSize":8,"evalInterval":40,"evalIters":2,"seed":3}}'
dataset=$(head -c 30000 "$REPO_ROOT/infra/demo/tinyshakespeare.txt" | curl -fsS "${auth[@]}" -X POST \
  "$GATEWAY_URL/api/datasets" -F "file=@-;filename=drill.txt;type=text/plain" -F name=drill -F tokenizer=char \
  -F "autoTrain=$spec")
run_id=$(jq -r .autoTrainRunId <<<"$dataset")
for _ in $(seq 1 300); do
  # The auto-train run is created when the dataset's ingestion event arrives: 404 until then.
  state=$({ curl -fsS "${auth[@]}" "$GATEWAY_URL/api/runs/$run_id" 2>/dev/null || echo '{"state":"Pending"}'; } \
    | jq -r .state)
  [ "$state" = Completed ] && break
  case "$state" in Failed|Cancelled) die "the drill's run ended $state" ;; esac
  sleep 1
done
[ "$state" = Completed ] || die "the drill's run did not complete in 5 minutes"
generate() {
  for _ in $(seq 1 60); do
    if text=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/generate" -H 'Content-Type: application/json' \
        -d '{"model":"drill-model","prompt":"ROMEO:","maxTokens":40,"temperature":0.8,"seed":7}' 2>/dev/null); then
      jq -r .text <<<"$text"
      return
    fi
    sleep 1
  done
  die "the drill's model is not served"
}
wait_ready() {
  for _ in $(seq 1 120); do
    curl -fsS "$GATEWAY_URL/health/ready" >/dev/null 2>&1 && return
    sleep 1
  done
  die "the stack did not come back after the restore"
}
before=$(generate)
sha=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/drill-model/versions/1" | jq -r .checkpointSha256)

bash "$here/backup.sh" "$backup" >/dev/null
wait_ready
log "Drill: wiping database $PG_DATABASE and $Artifacts__Root"
supervisorctl -c "$SUPERVISOR_CONF" stop all >/dev/null
PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qX \
  -c "DROP DATABASE \"$PG_DATABASE\" WITH (FORCE)"
rm -rf "$Artifacts__Root"
bash "$here/restore.sh" "$backup" >/dev/null
supervisorctl -c "$SUPERVISOR_CONF" start all >/dev/null
wait_ready

restored_sha=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/drill-model/versions/1" | jq -r .checkpointSha256)
after=$(generate)
[ "$restored_sha" = "$sha" ] || die "the restored version's checkpoint is $restored_sha, not $sha"
[ "$after" = "$before" ] || die "after the restore the same seed and prompt gave other text: '$after', not '$before'"
log "Restore drill passed: the restored model gives the same text for the same seed and prompt"
