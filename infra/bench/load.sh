#!/usr/bin/env bash
# Load benchmark against the running stack (start it and train the demo model with infra/demo.sh first): 100 parallel
# uploads of small corpora (each must reach Tokenized), then 50 concurrent generations, through the gateway.
#   bash infra/bench/load.sh [--uploads 100] [--generations 50] [--model tinyshakespeare-char] [--corpus-bytes 20000]
# or, with --auth, a valid key's latency alone and during 500 concurrent requests with random keys:
#   bash infra/bench/load.sh --auth [--guesses 500] [--samples 200]
# Prints p50/p99 and the answers by status; exits non-zero if anything but 2xx and 429 came back.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/env.sh"
ensure_secrets
dotnet build "$root/infra/bench/Platform.LoadBench" -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.LoadBench/bin/Release/net10.0/Platform.LoadBench.dll" \
  --corpus "$root/infra/demo/tinyshakespeare.txt" "$@"
