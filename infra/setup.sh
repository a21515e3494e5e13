#!/usr/bin/env bash
# Installs what the platform needs on Debian 12, only where missing: PostgreSQL 15, RabbitMQ, g++ and
# patchelf (for the TorchSharp libstdc++ fix), jemalloc (the training allocator), curl and jq, supervisor (it
# restarts a service that dies), docker-compose (the tests validate docker-compose.yml with it; no Docker engine
# is needed) and fortunes-zh (the Chinese corpus of the founding example); with --test also Chromium and a CJK font
# for the browser tests, kubectl, and s3rver (Node.js) for the S3 tests. The .NET 10 SDK must already be on PATH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

missing=()
[ -x "$PG_BIN/pg_ctl" ] || missing+=(postgresql)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v g++ >/dev/null || missing+=(g++)
command -v patchelf >/dev/null || missing+=(patchelf)
[ -n "$(jemalloc_path)" ] || missing+=(libjemalloc2)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
command -v unzip >/dev/null || missing+=(unzip)
command -v runuser >/dev/null || missing+=(util-linux)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v supervisord >/dev/null || missing+=(supervisor)
# The founding example's Chinese corpus (infra/demo/fortunes-zh.sh cleans it; the demo and the tests read it).
[ -r /usr/share/games/fortunes/chinese ] || missing+=(fortunes-zh)
# The browser tests (setup.sh --test): Debian's Chromium, driven by Playwright, and a CJK font for Chinese text.
if [ "${1:-}" = --test ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
  # The Kubernetes manifests' tests render infra/k8s with `kubectl kustomize` (Debian's kubectl 1.20 or any newer one).
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  # The S3 artifact store's tests run against s3rver, an S3-compatible server on Node.js (installed from npm below).
  command -v npm >/dev/null || missing+=(nodejs npm)
  # infra/observability: promtool checks its config and rules, and a real Prometheus scrapes the test stack.
  command -v promtool >/dev/null || missing+=(prometheus)
  # clients/python: a user's training script, tested with Debian's Python and nothing else.
  [ -x /usr/bin/python3 ] || missing+=(python3)
fi

if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them with apt-get"
  log "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d stops the packages from starting their own system-wide servers: ours run from .data/.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

# s3rver 3.7.1 for the S3 artifact store's tests, into .data/s3rver (the tests find it there).
if [ "${1:-}" = --test ] && [ ! -x "$DATA_DIR/s3rver/node_modules/.bin/s3rver" ]; then
  log "Installing s3rver (an S3-compatible test server) into $DATA_DIR/s3rver"
  mkdir -p "$DATA_DIR/s3rver"
  npm install --prefix "$DATA_DIR/s3rver" --no-audit --no-fund --silent s3rver@3.7.1 >/dev/null
fi

command -v dotnet >/dev/null \
  || die ".NET 10 SDK not found on PATH: install dotnet-sdk-10.0 (https://dot.net) and run again"
dotnet --list-sdks | grep -q '^10\.' || die ".NET 10 SDK required; found: $(dotnet --list-sdks | tr '\n' ' ')"
log "Prerequisites present"
