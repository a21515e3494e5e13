#!/usr/bin/env bash
# GPU check, for a machine with an NVIDIA GPU: trains the block-256 ("baby GPT") config for a few hundred steps,
# printing tokens/s and model FLOPs utilisation against the given peak (H200: 989 dense bf16 TFLOP/s), in bf16
# mixed precision unless told otherwise.
#   bash infra/bench/gpu.sh [steps] [peak-tflops] [fp32|bf16]
# Two ways to get LibTorch's CUDA libraries:
#   - a package feed that serves TorchSharp-cuda-linux: the benchmark is built with -p:TorchBackend=cuda;
#   - TORCH_CUDA_LIB=/path/to/torch/lib (a PyTorch installation's, e.g. $(python3 -c 'import
# torch,os;print(os.path.dirname(torch.__file__))')/lib):
#     the benchmark is published without the CPU LibTorch it normally carries and loads that folder's libraries
#     instead. TorchSharp 0.107 is built for LibTorch 2.10; PyTorch 2.11's libraries loaded and ran
# (docs/benchmarks.md). Beside it, infra/bench/torch_reference.py --device cuda runs the same config in PyTorch for a
# side-by-side figure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
args=(baby --device cuda --baby-steps "${1:-300}" --peak-tflops "${2:-989}" --precision "${3:-bf16}")
if [ -n "${TORCH_CUDA_LIB:-}" ]; then
  out="$(mktemp -d)"
  dotnet publish "$root/infra/bench/Platform.Bench" -c Release -o "$out" -nologo -v q -clp:ErrorsOnly
  # Only TorchSharp's own native library stays: LibTorch itself comes from TORCH_CUDA_LIB, all of one version.
  find "$out" \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' -o -name 'libshm*.so*' \
    -o -name 'libaoti*.so' -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' \
    -o -name 'libnnapi_backend.so' \) -delete
  LD_LIBRARY_PATH="$TORCH_CUDA_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    exec dotnet "$out/Platform.Bench.dll" "${args[@]}"
fi
dotnet build "$root/infra/bench/Platform.Bench" -c Release -p:TorchBackend=cuda -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll" "${args[@]}"
