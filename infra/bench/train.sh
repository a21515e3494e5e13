#!/usr/bin/env bash
# Training benchmark: nanoGPT's CPU configuration for 2,000 iterations, then the baby GPT for 20; "precision"
# runs the CPU configuration in fp32 and in bf16 and prints how far apart their losses are.
# "lora" fine-tunes a base of the CPU configuration fully and with LoRA, each in its own process (trainable
# parameters, ms/step, peak RSS, validation loss).
#   bash infra/bench/train.sh [small|baby|all|generate|batching|precision|lora] [--threads N] [--steps N] [--baby-steps N] [--base-steps N]
#                             [--precision fp32|bf16] [--recompute]
# Runs on the training service's allocator (jemalloc; TRAINING_ALLOCATOR=glibc for glibc's malloc).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/env.sh"
dotnet build "$root/infra/bench/Platform.Bench" -c Release -nologo -v q -clp:ErrorsOnly
# shellcheck disable=SC2046 # the allocator settings are separate words
exec env $(training_allocator_env) dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" "$@"
