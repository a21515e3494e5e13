#!/usr/bin/env bash
# The API from upload to an exported, re-imported model with curl and jq, run from the checkout's root against a
# running stack. docs/api.md shows this file as it is, and the test suite runs it.
set -euo pipefail
G=${PLATFORM_URL:-http://127.0.0.1:8080}
K="Authorization: Bearer ${PLATFORM_API_KEY:-$(cat .data/admin-key)}"   # any key; X-Api-Key: <key> works too
J='Content-Type: application/json'
out=$(mktemp -d)
curl -fsS -H "$K" "$G/api/keys/me"; echo

# A corpus, uploaded and followed until it is tokenized (Ingested → Tokenized, or Failed with a failureReason).
dataset=$(curl -fsS -H "$K" "$G/api/datasets" -F file=@infra/demo/tinyshakespeare.txt -F name=shakespeare \
  -F tokenizer=char | jq -r .id)
until curl -fsS -H "$K" "$G/api/datasets/$dataset" | jq -e '.state != "Ingested"' > /dev/null; do sleep 1; done
curl -fsS -H "$K" "$G/api/datasets/$dataset" | jq -c '{state, tokenizer: .tokenizer.kind, trainTokens}'

# A run on it: estimated, started, and followed through its Server-Sent Events, which end with its final state.
spec=$(jq -c --arg dataset "$dataset" '. + {name: "api-tour", datasetId: $dataset}' docs/examples/spec.json)
curl -fsS -H "$K" -H "$J" "$G/api/runs/estimate" -d "$spec" | jq -c '{parameters, tokens, fits, estimatedSeconds}'
run=$(curl -fsS -H "$K" -H "$J" "$G/api/runs" -d "$spec" | jq -r .id)
curl -fsSN -H "$K" "$G/api/runs/$run/events" | grep -c '^event: progress' || true
curl -fsS -H "$K" "$G/api/runs/$run" | jq -c '{state, step, maxSteps, bestValidationLoss, modelVersion}'
version=$(curl -fsS -H "$K" "$G/api/runs/$run" | jq -r .modelVersion)

# Its version: evaluated when registered, promoted, evaluated again through its new alias on request, and served.
curl -fsS -H "$K" "$G/api/models/api-tour/versions/$version" | jq -c '.evaluation | {loss, top1Accuracy, macroRecall}'
curl -fsS -H "$K" -H "$J" -X PUT "$G/api/models/api-tour/aliases/production" -d "{\"version\":$version}"; echo
evaluation=$(curl -fsS -H "$K" -H "$J" "$G/api/evaluations" \
  -d "{\"model\":\"api-tour@production\",\"datasetId\":\"$dataset\"}" | jq -r .id)
until curl -fsS -H "$K" "$G/api/evaluations/$evaluation" | jq -e '.state == "Completed" or .state == "Failed"' \
  > /dev/null; do sleep 1; done
curl -fsS -H "$K" "$G/api/evaluations/$evaluation" | jq -c '{state, figures: (.figures | {loss, top1Accuracy})}'
curl -fsS -H "$K" -H "$J" "$G/api/generate" -d '{"model":"api-tour@production","prompt":"ROMEO:","maxTokens":40,
  "temperature":0.8,"topK":40,"seed":1}' | jq -r .text
curl -fsS -H "$K" -H "$J" "$G/v1/completions" -d '{"model":"api-tour@production","prompt":"JULIET:","max_tokens":20,
  "seed":1}' | jq -r '.choices[0].text'

# Out and back in: the weights (safetensors) and the tokenizer downloaded, then imported as a model of their own.
curl -fsS -H "$K" -o "$out/model.safetensors" "$G/api/models/api-tour/versions/$version/weights"
curl -fsS -H "$K" -o "$out/tokenizer.json" "$G/api/models/api-tour/versions/$version/files/tokenizer.json"
curl -fsS -H "$K" "$G/api/models/import" -F name=api-tour-imported -F weights=@"$out/model.safetensors" \
  -F tokenizer=@"$out/tokenizer.json" | jq -c '{name, version, importedFrom}'

# The dataset deleted with what was learned from it (the import stays).
curl -fsS -H "$K" -X DELETE "$G/api/datasets/$dataset?cascade=true" \
  | jq -c '{runs: (.runs | length), modelVersions: (.modelVersions | length)}'
