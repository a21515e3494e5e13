#!/usr/bin/env bash
# The founding document's worked example, as it is written: Chinese text (Debian's fortunes-zh, cleaned by
# fortunes-zh.sh), a WordPiece tokenizer, a Transformer with embeddings of 512 and 8 heads of 64, batches of 64, Adam
# and cross-entropy, trained for a number of epochs; then its accuracy and recall on the held-out split, what it cost,
# and 50 tokens generated from "我". A part of infra/demo.sh; alone, against a running stack:
#   DEMO_ZH_EPOCHS=10 DEMO_ZH_LAYERS=1 bash infra/demo/founding-example.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/env.sh"
source "$here/demo/lib.sh"

epochs="${DEMO_ZH_EPOCHS:-10}"
layers="${DEMO_ZH_LAYERS:-1}"
corpus="$(mktemp -d)/fortunes-zh.txt"
bash "$here/demo/fortunes-zh.sh" >"$corpus"
# The document's shape: embeddings of 512, 8 heads (of 64 each), batches of 64, as many layers as the demo's time
# allows. Its optimiser is Adam: AdamW without weight decay. Its loss, cross-entropy, is every GPT's.
spec=$(jq -cn --argjson epochs "$epochs" --argjson layers "$layers" '{
  name: "fortunes-zh",
  model: { nLayer: $layers, nHead: 8, nEmbd: 512, blockSize: 64, dropout: 0.0 },
  training: { epochs: $epochs, batchSize: 64, learningRate: 0.001, weightDecay: 0, warmupSteps: 20,
              evalInterval: 1000, evalIters: 10, seed: 1, registration: "best" } }')
log "Founding example: uploading $(stat -c %s "$corpus") bytes of Chinese (fortunes-zh, cleaned), to be split into" \
  "words by WordPiece and learned by a 512-wide Transformer for $epochs epochs"
zh_set=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/datasets" -F "file=@$corpus;type=text/plain" \
  -F "name=fortunes-zh" -F "validationFraction=0.1" -F 'tokenizer={"kind":"wordpiece","vocabSize":7000}' \
  -F "autoTrain=$spec")
jq -c '{id, name, bytes, characters, lines}' <<<"$zh_set"
follow_run "$(jq -r .autoTrainRunId <<<"$zh_set")"
zh_version=$(jq -r .modelVersion <<<"$r")
curl -fsS "${auth[@]}" "$GATEWAY_URL/api/datasets/$(jq -r .id <<<"$zh_set")" \
  | jq -c '{tokenizer: (.tokenizer | {kind, vocabSize}), trainTokens, validationTokens}'
jq -c '{epochs: .training.epochs, stepsPerEpoch, steps: .step, parameters, precision,
        cost: (.cost | {wallSeconds, cpuSeconds, price, currency})}' <<<"$r"

log "fortunes-zh v$zh_version: accuracy and recall on the held-out split"
curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/fortunes-zh/versions/$zh_version" \
  | jq '{name, version, evaluation: (.evaluation | {loss, perplexity, top1Accuracy, top5Accuracy, macroPrecision,
                                                    macroRecall, macroF1})}'
wait_servable "fortunes-zh/versions/$zh_version"
log "50 tokens generated from \"我\" (seed 1)"
curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/generate" -H 'Content-Type: application/json' \
  -d "{\"model\":\"fortunes-zh/versions/$zh_version\",\"prompt\":\"我\",\"maxTokens\":50,\"temperature\":0.8,
       \"topK\":40,\"seed\":1}" \
  | jq -r '"\(.completionTokens) tokens\n----\n我\(.text)\n----"'
