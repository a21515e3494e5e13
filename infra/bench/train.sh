#!/usr/bin/env bash
# Training benchmark: nanoGPT's CPU configuration for 2,000 iterations, then the baby GPT for 20.
#   bash infra/bench/train.sh [small|baby|all] [--threads N] [--steps N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dotnet build "$root/infra/bench/Platform.Bench" -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" "$@"
