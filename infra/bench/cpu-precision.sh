#!/usr/bin/env bash
# fp32 against bf16 training on this CPU, side by side: rounds of nanoGPT's CPU configuration (or the baby GPT) in
# each precision, with oneMKL choosing its kernels as it does (by CPU vendor) and with oneMKL told the CPU is Intel's.
# The second pair is a diagnostic, not something the platform does: oneMKL takes its AVX-512 kernels only on Intel
# CPUs, and this shows how much of an fp32/bf16 gap on another vendor's CPU comes from that (docs/benchmarks.md).
#   bash infra/bench/cpu-precision.sh [--config small|baby] [--steps N] [--rounds N] [--threads N]
# Prints each round's median ms/iter, then the median of the rounds and bf16 ÷ fp32 for each pair.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/env.sh"
config=small steps="" rounds=3 threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2 ;; --steps) steps=$2 ;; --rounds) rounds=$2 ;; --threads) threads=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[ "$config" = small ] || [ "$config" = baby ] || die "--config is small or baby"
# The benchmark's median leaves out the first five iterations, so a run needs more than five.
[ -n "$steps" ] || steps=$([ "$config" = small ] && echo 300 || echo 8)
dotnet build "$root/infra/bench/Platform.Bench" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
bench="$root/infra/bench/Platform.Bench/bin/Release/net10.0/Platform.Bench.dll"

# oneMKL asks this function (LibTorch links oneMKL in and exports it) whether the CPU is Intel's.
intel="$DATA_DIR/bench/libmkl-intel-cpu.so"
mkdir -p "$(dirname "$intel")"
if [ ! -f "$intel" ]; then
  printf 'int mkl_serv_intel_cpu_true(void) { return 1; }\n' > "$intel.c"
  gcc -O2 -shared -fPIC -o "$intel" "$intel.c"
fi

grep -m1 'model name' /proc/cpuinfo | sed 's/.*: /CPU: /'
echo "bf16 instructions: $(grep -m1 -o -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "$config configuration, $steps iterations a run, $threads threads, $rounds rounds"
mode=("$config"); [ "$config" = small ] && mode+=(--steps "$steps") || mode+=(--baby-steps "$steps")
declare -A all
for round in $(seq 1 "$rounds"); do
  for kernels in vendor intel; do
    for precision in fp32 bf16; do
      preload=$(training_allocator_env | tr ' ' '\n' | sed -n 's/^LD_PRELOAD=//p')
      [ "$kernels" = intel ] && preload="$preload $intel"
      # shellcheck disable=SC2046 # the allocator settings are separate words
      ms=$(env $(training_allocator_env | tr ' ' '\n' | grep -v '^LD_PRELOAD=') LD_PRELOAD="$preload" \
        dotnet "$bench" "${mode[@]}" --threads "$threads" --precision "$precision" \
        | sed -n 's/.*(median \([0-9.]*\)).*/\1/p')
      echo "   round $round: oneMKL kernels $kernels, $precision: median $ms ms/iter"
      all[$kernels-$precision]="${all[$kernels-$precision]:-} $ms"
    done
  done
done
median() {
  tr ' ' '\n' | grep . | sort -n \
    | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
for kernels in vendor intel; do
  fp32=$(median <<<"${all[$kernels-fp32]}") bf16=$(median <<<"${all[$kernels-bf16]}")
  awk -v k="$kernels" -v a="$fp32" -v b="$bf16" 'BEGIN {
    printf "== oneMKL kernels %-6s fp32 %8.1f ms/iter   bf16 %8.1f ms/iter   bf16 ÷ fp32 %.2f (%s is faster)\n",
      k, a, b, b / a, b < a ? "bf16" : "fp32" }'
done
