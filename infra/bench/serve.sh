#!/usr/bin/env bash
# Serving benchmark against the running stack (start it and train a model with infra/demo.sh first).
#   bash infra/bench/serve.sh [--model tinyshakespeare-char] [--clients 8] [--requests 10] [--max-tokens 100]
# Reads the admin key and the internal secret as the stack's scripts do (environment, else .data/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/env.sh"
ensure_secrets
dotnet build "$root/infra/bench/Platform.ServeBench" -c Release -nologo -v q -clp:ErrorsOnly
exec dotnet "$root/infra/bench/Platform.ServeBench/bin/Release/net10.0/Platform.ServeBench.dll" "$@"
