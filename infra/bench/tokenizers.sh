#!/usr/bin/env bash
# Tokenizer benchmark: BPE training (vocab 8,192) on the demo corpus and a generated 50 MB corpus, and GPT-2
# encoding throughput, ours vs Microsoft.ML.Tokenizers' Tiktoken, on one core and all cores.
#   bash infra/bench/tokenizers.sh [--large-mb N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dotnet build "$root/infra/bench/Platform.TokenizerBench" -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.TokenizerBench/bin/Release/net10.0/Platform.TokenizerBench.dll" "$@"
