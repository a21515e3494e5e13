#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU and a package feed that serves TorchSharp-cuda-linux: builds the
# benchmark against the CUDA backend and trains the block-256 ("baby GPT") config for a few hundred steps,
# printing tokens/s and model FLOPs utilisation against the given peak (H200: 989 dense bf16 TFLOP/s), in bf16
# mixed precision unless told otherwise.
#   bash infra/bench/gpu.sh [steps] [peak-tflops] [fp32|bf16]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dotnet build "$root/infra/bench/Platform.Bench" -c Release -p:TorchBackend=cuda -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" baby --device cuda \
  --baby-steps "${1:-300}" --peak-tflops "${2:-989}" --precision "${3:-bf16}"
