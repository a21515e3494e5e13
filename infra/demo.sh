#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine (as root): install what is missing, start PostgreSQL,
# RabbitMQ and the six services, upload the demo corpus through the gateway with an auto-train spec,
# follow training, then print the evaluation and a generated sample. The stack is left running:
# stop it with infra/stop.sh.
# Then the same for an encoder-decoder on the bundled paired dataset (dates), served with beam search, and for a chat
# GPT on conversations made from those dates, asked through /v1/chat/completions (streamed, then with a JSON schema).
# Last, the founding document's example: Chinese text (fortunes-zh) on WordPiece, trained for epochs
# (infra/demo/founding-example.sh).
#   DEMO_STEPS=2000 DEMO_MODEL=tinyshakespeare-char DEMO_TOKENIZER=char DEMO_SEQ2SEQ=1 DEMO_CHAT=1 DEMO_CHINESE=1 \
#   DEMO_ZH_EPOCHS=10 DEMO_ZH_LAYERS=1 infra/demo.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
started=$(date +%s)

bash "$here/setup.sh"
bash "$here/infra-up.sh"
bash "$here/services-up.sh"
# The admin key services-up.sh generated (or PLATFORM_ADMIN_KEY): every request but health checks needs a key.
source "$here/demo/lib.sh"

corpus="${DEMO_CORPUS:-$here/demo/tinyshakespeare.txt}"
model="${DEMO_MODEL:-tinyshakespeare-char}"
steps="${DEMO_STEPS:-2000}"
# nanoGPT's CPU configuration of the Shakespeare char model.
spec=$(jq -cn --arg name "$model" --argjson steps "$steps" '{
  name: $name,
  model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0.0 },
  training: { maxSteps: $steps, batchSize: 12, learningRate: 0.001, minLearningRate: 0.0001, warmupSteps: 100,
              beta2: 0.99, evalInterval: 250, evalIters: 20, seed: 1337 } }')

log "Uploading $(basename "$corpus") ($(stat -c %s "$corpus") bytes) to $GATEWAY_URL/api/datasets"
dataset=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/datasets" -F "file=@$corpus;type=text/plain" \
  -F "name=$(basename "$corpus" .txt)" -F "validationFraction=0.1" -F "tokenizer=${DEMO_TOKENIZER:-char}" \
  -F "autoTrain=$spec")
dataset_id=$(jq -r .id <<<"$dataset")
run_id=$(jq -r .autoTrainRunId <<<"$dataset")
jq '{id, name, state, sha256, bytes, characters, lines, trainBytes, validationBytes}' <<<"$dataset"
share_with_everyone "$dataset_id"

log "Dataset $dataset_id: waiting for tokenization"
while :; do
  d=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/datasets/$dataset_id")
  state=$(jq -r .state <<<"$d")
  case "$state" in
    Tokenized) jq -c '{state, tokenizer, trainTokens, validationTokens}' <<<"$d"; break ;;
    Failed) jq . <<<"$d"; die "dataset failed" ;;
  esac
  sleep 1
done

log "Run $run_id: training $model for $steps steps (progress every 5 s)"
follow_run "$run_id"

version=$(jq -r .modelVersion <<<"$r")
log "Model $model v$version: evaluation on the held-out split"
curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/$model/versions/$version" \
  | jq '{name, version, checkpointSha256, evaluation}'

log "Promoting $model v$version: the alias $model@production points to it"
curl -fsS "${auth[@]}" -X PUT "$GATEWAY_URL/api/models/$model/aliases/production" -H 'Content-Type: application/json' \
  -d "{\"version\":$version}" | jq -c '{name, alias, version, updatedBy}'
wait_servable "$model@production"
log "Generating 300 tokens from \"ROMEO:\" with $model@production (seed 1)"
curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/generate" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$model@production\",\"prompt\":\"ROMEO:\",\"maxTokens\":300,\"temperature\":0.8,\"topK\":40,
       \"seed\":1}" \
  | jq -r '"model \(.model) v\(.version), \(.promptTokens) prompt + \(.completionTokens) completion tokens"
           + "\n----\nROMEO:\(.text)\n----"'

log "Explaining \"ROMEO:\" → \" Ay\": each target token's log-probability, and how much each prompt token mattered"
curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/explain" -H 'Content-Type: application/json' \
  -d "{\"model\":\"$model/versions/$version\",\"prompt\":\"ROMEO:\",\"target\":\" Ay\"}" \
  | jq -c '{predictions: [.predictions[] | select(.position >= 6)
                          | {token: .text, logprob: (.logprob * 1000 | round / 1000), top: [.top[].text]}],
            saliency: [.saliency.scores[] | {token: .text, share: (.share * 1000 | round / 1000)}],
            layers: (.attention | length), heads: (.attention[0] | length)}'

if [ "${DEMO_LORA:-1}" != 0 ]; then
  # Fine-tune the version with LoRA adapters (rank 8 on the attention and MLP projections): the base stays as it is,
  # the new version stores only its adapters, and Generation serves it on the base it already holds.
  log "LoRA fine-tune of $model v$version (200 steps, adapters only)"
  lora_run=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/runs" -H 'Content-Type: application/json' \
    -d "{\"datasetId\":\"$(jq -r .datasetId <<<"$r")\",\"name\":\"$model-lora\",
         \"initFrom\":{\"model\":\"$model/versions/$version\"},
         \"fineTune\":{\"method\":\"lora\",\"rank\":8,\"alpha\":16,\"targets\":[\"attn\",\"mlp\"]},
         \"training\":{\"maxSteps\":200,\"learningRate\":0.002,\"warmupSteps\":20,\"evalInterval\":100,
                     \"evalIters\":20}}")
  follow_run "$(jq -r .id <<<"$lora_run")"
  lora_version=$(jq -r .modelVersion <<<"$r")
  curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/$model-lora/versions/$lora_version" \
    | jq -c --argjson trained "$(jq .parameters <<<"$r")" \
      '{name, version, baseModel, fineTuneMethod, trainedParameters: $trained,
        evaluation: (.evaluation | {loss, top1Accuracy})}'
  wait_servable "$model-lora/versions/$lora_version"
  curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/generate" -H 'Content-Type: application/json' \
    -d "{\"model\":\"$model-lora\",\"prompt\":\"ROMEO:\",\"maxTokens\":100,\"temperature\":0.8,\"topK\":40,
         \"seed\":1}" \
    | jq -r '"----\nROMEO:\(.text)\n----"'
fi

if [ "${DEMO_SEQ2SEQ:-1}" != 0 ]; then
  # The second model family: an encoder-decoder on paired data (dates "15 April 2023" → "2023-04-15"), served with beam
  # search.
  pairs="$here/demo/dates.tsv"
  seq_spec='{"name":"dates",
    "model":{"architecture":"encoder-decoder","nEncoderLayer":2,"nDecoderLayer":2,"nHead":4,"nEmbd":128,
             "maxSourceLength":24,"maxTargetLength":16},
    "training":{"maxSteps":900,"batchSize":32,"learningRate":0.002,"warmupSteps":50,"evalInterval":200,"evalIters":5,
                "seed":1,"labelSmoothing":0.05}}'
  log "Uploading $(basename "$pairs") ($(wc -l <"$pairs") pairs) as a paired dataset, with an encoder-decoder to train"
  pair_set=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/datasets" -F "file=@$pairs;type=text/plain" \
    -F "name=dates" -F "format=pairs" -F "tokenizer=char" -F "autoTrain=$seq_spec")
  jq -c '{id, format, pairs}' <<<"$pair_set"
  share_with_everyone "$(jq -r .id <<<"$pair_set")"
  follow_run "$(jq -r .autoTrainRunId <<<"$pair_set")"
  seq_version=$(jq -r .modelVersion <<<"$r")
  log "Model dates v$seq_version: evaluation on the held-out pairs (decoded with beam 4)"
  curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/dates/versions/$seq_version" \
    | jq '{name, version, architecture, sample,
           evaluation: (.evaluation | {loss, top1Accuracy, macroPrecision, macroRecall, macroF1,
                                       expectedCalibrationError, exactMatch, bleu, bleuTokenize, chrF,
                                       pairsEvaluated})}'
  wait_servable "dates/versions/$seq_version"
  log "Rewriting \"4 July 2031\" with beam search (4 beams)"
  curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/generate" -H 'Content-Type: application/json' \
    -d '{"model":"dates","input":"4 July 2031","numBeams":4}' | jq -c '{text, finishReason, model, version}'
fi

if [ "${DEMO_CHAT:-1}" != 0 ]; then
  # Chat: conversations made from the dates by a script, a GPT trained on the assistant's turns only.
  chats="$(mktemp -d)/date-chats.jsonl"
  bash "$here/demo/make-chats.sh" "$here/demo/dates.tsv" >"$chats"
  chat_spec='{"name":"date-chat","model":{"nLayer":3,"nHead":4,"nEmbd":64,"blockSize":128,"dropout":0.0},
    "training":{"maxSteps":1000,"batchSize":32,"learningRate":0.003,"warmupSteps":50,"evalInterval":500,"evalIters":5,
                "seed":5}}'
  log "Uploading $(wc -l <"$chats") conversations (infra/demo/make-chats.sh), with a GPT to train on the assistant's" \
    "turns"
  chat_set=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/datasets" -F "file=@$chats;type=text/plain" \
    -F "name=date-chats" -F "format=chat" -F "tokenizer=char" -F "autoTrain=$chat_spec")
  jq -c '{id, format, chat}' <<<"$chat_set"
  share_with_everyone "$(jq -r .id <<<"$chat_set")"
  follow_run "$(jq -r .autoTrainRunId <<<"$chat_set")"
  chat_version=$(jq -r .modelVersion <<<"$r")
  log "Model date-chat v$chat_version: its template, and its evaluation over the held-out assistant tokens"
  curl -fsS "${auth[@]}" "$GATEWAY_URL/api/models/date-chat/versions/$chat_version" \
    | jq '{name, version, chatTemplate, sample,
           evaluation: (.evaluation | {loss, perplexity, top1Accuracy, macroRecall, exactMatch, pairsEvaluated})}'
  wait_servable "date-chat/versions/$chat_version"
  ask() {
    jq -cn --arg q "$1" '{model: "date-chat", temperature: 0,
      messages: [{role: "system", content: "Write the date in ISO form."}, {role: "user", content: $q}]}'
  }
  log "Asking it \"4 July 2031\" through /v1/chat/completions, streamed"
  curl -fsSN "${auth[@]}" "$GATEWAY_URL/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "$(ask "4 July 2031" | jq -c '. + {stream: true}')" \
    | sed -n 's/^data: //p' | grep -v '^\[DONE\]$' | jq -j '.choices[0].delta.content // empty'
  echo
  log "Asking again for JSON, with a schema the answer must follow; the answer parsed"
  schema='{"type":"object","properties":{"date":{"type":"string","maxLength":10},"year":{"type":"integer"},
           "sure":{"type":"boolean"}},"required":["date","year","sure"]}'
  curl -fsS "${auth[@]}" "$GATEWAY_URL/v1/chat/completions" -H 'Content-Type: application/json' \
    -d "$(ask "4 July 2031 as JSON" | jq -c --argjson s "$schema" \
      '. + {response_format: {type: "json_schema", json_schema: {name: "date", schema: $s}}}')" \
    | jq -c '.choices[0] | {finish_reason, answer: (.message.content | fromjson)}'
fi

if [ "${DEMO_CHINESE:-1}" != 0 ]; then
  # The founding document's example as it is written: Chinese, WordPiece, 512 wide with 8 heads, batches of 64, Adam,
  # epochs, accuracy and recall, and 50 tokens from "我".
  bash "$here/demo/founding-example.sh"
fi

log "Done in $(( $(date +%s) - started )) s. The stack is still running at $GATEWAY_URL; stop it with infra/stop.sh"
log "Dashboard: $GATEWAY_URL/ (sign in with a key); API reference: $GATEWAY_URL/docs;" \
  "command line: infra/platform login"
key_file="${ADMIN_KEY_FILE#"$REPO_ROOT/"}"
log "Its admin API key is in $key_file (unless PLATFORM_ADMIN_KEY was set):" \
  "curl -H \"Authorization: Bearer \$(cat $key_file)\" $GATEWAY_URL/api/runs"
