#!/usr/bin/env bash
# The demo's conversation dataset, made from its date pairs: one conversation per pair (a system prompt, the date in
# words from the user, the ISO date from the assistant); every third asks "as JSON" and is answered with an object.
#   bash infra/demo/make-chats.sh [infra/demo/dates.tsv] > date-chats.jsonl
set -euo pipefail
pairs="${1:-$(dirname "${BASH_SOURCE[0]}")/dates.tsv}"
jq -R -c -n '
  [inputs | select(length > 0) | split("\t")] | to_entries[] | .key as $i | .value as [$words, $iso]
  | ($i % 3 == 0) as $json
  | {messages: [
      {role: "system", content: "Write the date in ISO form."},
      {role: "user", content: (if $json then "\($words) as JSON" else $words end)},
      {role: "assistant", content: (if $json
        then ({date: $iso, year: ($iso[0:4] | tonumber), sure: true} | tojson) else $iso end)}]}' "$pairs"
