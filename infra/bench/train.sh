#!/usr/bin/env bash
# Training benchmark: nanoGPT's CPU configuration for 2,000 iterations, then the baby GPT for 20; "precision"
# runs the CPU configuration in fp32 and in bf16 and prints how far apart their losses are.
# "lora" fine-tunes a base of the CPU configuration fully and with LoRA, each in its own process (trainable
# parameters, ms/step, peak RSS, validation loss). "memory" trains the CPU configuration for --steps (10,000) and
# prints RSS, native memory (RSS less the GC's committed bytes, after a full collection) and live tensors every
# --every (500) steps, then the native growth in each half after warm-up. "dropout" times dropout and attention
# with dropout at the baby GPT's shape, LibTorch's own against the platform's (median of --steps, 5). "structured"
# decodes chat replies with no grammar, json_object and a JSON schema, side by side (--rounds 5, --max-tokens 200).
# "llama" decodes GPT-2 small's shape in the platform and in llama.cpp (LLamaSharp; f32 and Q8_0 GGUF exports) with
# --threads (default: every core) side by side (--prompt 64, --new-tokens 256, --long-prompt 512). "prefill" serves
# the same shape: time to first token after a shared --prefix (1,000) tokens, cold and warm, with and without prefix
# reuse; and --streams (4) streams' inter-token latency while a --prefix-token prompt arrives, prefilled in chunks of
# 256 and 64 and whole (--rounds 3 of each). "speculative" decodes one stream of that shape with drafts of 4 tokens by
# prompt lookup and without (--new-tokens 256, --rounds 3): a repetitive prompt greedily, free text sampled.
# "speculative-trained" trains a small character GPT to copy a given passage (--steps 1500), then decodes held-out
# copies greedily with drafts of 0, 2, 4 and 8 tokens (--rounds 5).
#   bash infra/bench/train.sh [small|baby|all|generate|batching|precision|lora|pytorch|attention|memory|dropout|
#                              structured|llama|prefill|speculative|speculative-trained]
#                             [--threads N] [--steps N] [--baby-steps N] [--base-steps N] [--precision fp32|bf16]
#                             [--recompute] [--every N]
#   bash infra/bench/train.sh service [--steps 500] [--precision fp32|bf16] [--threads N]
# "service" runs the small configuration here, then posts the same run to the running stack through the gateway
# (infra/demo.sh first) and prints both medians side by side. --threads (default: every core but one, which is what
# the service's Training:TorchThreads 0, its default, uses) should match the service's.
# "pytorch" runs nanoGPT's configurations here and in PyTorch (infra/bench/torch_reference.py, Debian's python3-torch
# 1.13 with OpenBLAS, both installed on first use as root) side by side, same threads, same iterations:
#   bash infra/bench/train.sh pytorch [--config small|baby] [--precision fp32|bf16] [--steps N] [--threads N] [--repeat
# N] Runs on the training service's allocator (jemalloc; TRAINING_ALLOCATOR=glibc for glibc's malloc).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/env.sh"
dotnet build "$root/infra/bench/Platform.Bench" -c Release -nologo -v q -clp:ErrorsOnly
# Reads "--name value" pairs into the variables of the allowed names ($1, space-separated); anything else is refused.
read_options() {
  local allowed=" $1 " name
  shift
  while [ $# -gt 0 ]; do
    name="${1#--}"
    [[ "$1" == --* && "$allowed" == *" $name "* ]] || die "unknown option $1"
    printf -v "$name" '%s' "$2"
    shift 2
  done
}
# The median ms/iter of a benchmark's output: both benchmarks print "… ms/iter (median M) …".
median_of() { sed -n 's/.*(median \([0-9.]*\)).*/\1/p'; }
if [ "${1:-}" = service ]; then
  shift
  steps=500 precision=fp32 threads=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))
  read_options "steps precision threads" "$@"
  ensure_secrets
  auth=(-H "Authorization: Bearer $PLATFORM_ADMIN_KEY")
  dataset=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/datasets?limit=100" \
    | jq -r '[.items[] | select(.state == "Tokenized" and .format == "text" and .tokenizer.kind == "char")][0].id
             // empty')
  [ -n "$dataset" ] || die "no tokenized char dataset in the stack: run infra/demo.sh first"
  # shellcheck disable=SC2046
  bench=$(env $(training_allocator_env) \
    dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" small \
    --steps "$steps" --threads "$threads" --precision "$precision" | tee /dev/stderr | median_of)
  spec=$(jq -cn --arg ds "$dataset" --argjson steps "$steps" --arg precision "$precision" '{
    datasetId: $ds, name: "bench-service-speed",
    model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0.0 },
    training: { maxSteps: $steps, batchSize: 12, learningRate: 0.001, minLearningRate: 0.0001, warmupSteps: 100,
                beta2: 0.99, evalInterval: 250, evalIters: 20, seed: 1337, precision: $precision } }')
  run=$(curl -fsS "${auth[@]}" -X POST "$GATEWAY_URL/api/runs" -H 'Content-Type: application/json' -d "$spec" \
    | jq -r .id)
  log "run $run: the same configuration through the gateway"
  while :; do
    state=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/runs/$run" | jq -r .state)
    case "$state" in Evaluating|Completed) break ;; Failed|Cancelled) die "run $state" ;; esac
    sleep 2
  done
  service=$(curl -fsS "${auth[@]}" "$GATEWAY_URL/api/runs/$run/metrics?names=tokens_per_sec" \
    | jq -r '.series[] | select(.key == "tokens_per_sec") | [.points[].value] | sort | .[length / 2 | floor]')
  awk -v ms="$bench" -v svc="$service" -v t="$threads" -v p="$precision" -v s="$steps" 'BEGIN {
    b = 12 * 64 * 1000 / ms
    printf "\n== small configuration, %s, %d steps: in-process benchmark (%d threads) vs the Training service " \
      "(through the gateway), medians\n", p, s, t
    printf "   benchmark %8.0f tokens/s   service %8.0f tokens/s   service / benchmark %.1f%%\n",
      b, svc, 100 * svc / b }'
  exit 0
fi
if [ "${1:-}" = pytorch ]; then
  shift
  config=small precision=fp32 steps=200 threads=1 repeat=1
  read_options "config precision steps threads repeat" "$@"
  # Debian's PyTorch links the system BLAS: without OpenBLAS that is the reference BLAS, about 10× slower.
  openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3
  if ! /usr/bin/python3 -c 'import torch' 2>/dev/null || [ ! -e "$openblas" ]; then
    [ "$(id -u)" = 0 ] \
      || die "the PyTorch reference needs python3-torch and libopenblas0-pthread: run as root or install them"
    log "Installing python3-torch and libopenblas0-pthread for the PyTorch reference"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread \
      >/dev/null
  fi
  [ "$config" = small ] && platform_mode=(small --steps "$steps") || platform_mode=(baby --baby-steps "$steps")
  # Each round runs PyTorch, then this platform straight after it, and prints the ratio of their medians: this
  # machine's speed drifts within minutes, so only a ratio measured side by side means anything.
  ratios=()
  for round in $(seq 1 "$repeat"); do
    # One thread pool each: PyTorch's own, with OpenBLAS single-threaded inside it.
    reference=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$root/infra/bench/torch_reference.py" \
      "$root/infra/demo/tinyshakespeare.txt" --device cpu --config "$config" --precision "$precision" \
      --steps "$steps" --threads "$threads" 2>&1 | grep -v Warning)
    echo "$reference"
    # shellcheck disable=SC2046
    platform=$(env $(training_allocator_env) \
      dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" \
      "${platform_mode[@]}" --threads "$threads" --precision "$precision" | grep -E '^==|ms/iter|s/iter')
    echo "$platform"
    ratio=$(awk -v r="$(median_of <<<"$reference")" -v p="$(median_of <<<"$platform")" 'BEGIN { printf "%.2f", r / p }')
    ratios+=("$ratio")
    echo "-- round $round of $repeat: platform / PyTorch speed, from the medians: ${ratio}×"
  done
  if [ "$repeat" -gt 1 ]; then
    printf '%s\n' "${ratios[@]}" | sort -n | awk -v c="$config" -v p="$precision" '{ v[NR] = $1 } END {
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "\n== %s, %s: platform / PyTorch speed over %d side-by-side rounds: " \
        "median %.2f× (lowest %.2f×, highest %.2f×)\n", c, p, NR, m, v[1], v[NR] }'
  fi
  exit 0
fi
# shellcheck disable=SC2046 # the allocator settings are separate words
exec env $(training_allocator_env) dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" "$@"
