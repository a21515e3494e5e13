#!/usr/bin/env bash
# Makes TorchSharp 0.107's libLibTorchSharp.so load on hosts whose libstdc++ predates GLIBCXX_3.4.32
# (Debian 12, Ubuntu 22.04). Runs after every build/publish on the copy in the output folder (never the
# NuGet cache); does nothing where the library already loads (e.g. the .NET 10 container images) or was
# already patched. See docs/operations.md, "TorchSharp on Debian 12".
set -euo pipefail
out="${1:?usage: patch-libtorchsharp.sh OUTPUT_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="$out/runtimes/linux-x64/native"
lib="$native/libLibTorchSharp.so"
shim_name="libplatform_ios_shim.so"
symbol="_ZSt21ios_base_library_initv"

[ "$(uname -s)" = Linux ] || exit 0
[ -f "$lib" ] || exit 0
if ! ldd "$lib" 2>&1 | grep -q "GLIBCXX_3.4.32' not found"; then
  exit 0   # loads as it is (new enough libstdc++), or already patched
fi
for tool in g++ gcc patchelf; do
  if ! command -v "$tool" >/dev/null; then
    echo "patch-libtorchsharp: '$tool' is missing; run infra/setup.sh (apt-get install g++ patchelf)" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
g++ -O2 -shared -fPIC -o "$work/$shim_name" "$here/ios_base_shim.cpp"
gcc -O2 -o "$work/weaken_verneed" "$here/weaken_verneed.c"

# Patch a copy and move it into place, so an interrupted build never leaves a half-patched library.
cp "$lib" "$work/lib.so"
cp "$work/$shim_name" "$native/$shim_name"
patchelf --clear-symbol-version "$symbol" "$work/lib.so"
readelf -d "$work/lib.so" | grep -q "$shim_name" || patchelf --add-needed "$shim_name" "$work/lib.so"
readelf -d "$work/lib.so" | grep -qE 'R(UN)?PATH' || patchelf --set-rpath '$ORIGIN' "$work/lib.so"
"$work/weaken_verneed" "$work/lib.so" GLIBCXX_3.4.32
mv -f "$work/lib.so" "$lib"

if ldd "$lib" 2>&1 | grep -v "weak version" | grep -q "not found"; then
  echo "patch-libtorchsharp: $lib still has unresolved dependencies:" >&2
  ldd "$lib" >&2
  exit 1
fi
echo "patch-libtorchsharp: patched $lib for this host's libstdc++"
