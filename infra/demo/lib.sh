# Helpers of the demo's parts (sourced by infra/demo.sh and infra/demo/founding-example.sh): the admin key, and
# following a run.
# The admin key services-up.sh generated (or PLATFORM_ADMIN_KEY): every request but health checks needs a key.
ensure_secrets
auth=(-H "Authorization: Bearer $PLATFORM_ADMIN_KEY")

# Uploads are private to their key; the demo's corpora are public-domain, so any viewer key may use what they teach.
share_with_everyone() {
  curl -fsS "${auth[@]}" -X PUT "$GATEWAY_URL/api/datasets/$1/sharing" -H 'Content-Type: application/json' \
    -d '{"everyone":true}' | jq -c '{sharedWithEveryone: .everyone}'
}

# Prints a run's progress every 5 s until it completes (it may not exist for a moment after an upload); sets $r to the
# run.
follow_run() {
  local told_precision=""
  while :; do
    r=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/runs/$1" 2>/dev/null \
      || echo '{"state":"Queued","step":0,"maxSteps":0}')
    # The precision the worker chose ("auto" times fp32 and bf16 on this machine first), once it has.
    if [ -z "$told_precision" ] && [ "$(jq -r '.precision // empty' <<<"$r")" != "" ]; then
      jq -r '"  trains in \(.precision): \(.precisionReason)"' <<<"$r"
      told_precision=yes
    fi
    jq -r '"  \(.state) step \(.step)/\(.maxSteps)"
           + "  loss \(.latestTrainLoss // "-" | tostring | .[0:6])"
           + "  val \(.latestValidationLoss // "-" | tostring | .[0:6])"
           + "  \((.tokensPerSecond // 0) | floor) tokens/s  ETA \((.etaSeconds // 0) | floor) s"
           + (if .epoch then "  epoch \(.epoch)/\(.training.epochs)" else "" end)' <<<"$r"
    case "$(jq -r .state <<<"$r")" in
      Completed) return ;;
      Failed|Cancelled) jq . <<<"$r"; die "run $(jq -r .state <<<"$r")" ;;
    esac
    sleep 5
  done
}

# Waits until Generation has heard of a version (from its ModelVersionRegistered event, a moment after the registry has
# it).
wait_servable() {
  for _ in $(seq 1 60); do
    curl -fsS "${auth[@]}" "$GATEWAY_URL/v1/models" | jq -e --arg id "$1" '.data | any(.id == $id)' >/dev/null && return
    sleep 0.5
  done
}
