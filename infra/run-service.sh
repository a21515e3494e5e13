#!/usr/bin/env bash
# Starts one service in its output folder (supervisord runs it, from services-up.sh) as its own database role and
# broker user: their passwords are read from .data/secrets/ here, so none is written into supervisord's configuration.
#   infra/run-service.sh Ingestion
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
name="${1:?usage: run-service.sh Service}"
ConnectionStrings__Platform="$(service_database "$name")"
export ConnectionStrings__Platform
# The gateway sends no message: it has no broker user.
if [ "$name" != Gateway ]; then
  ConnectionStrings__RabbitMq="$(service_broker "$name")"
  export ConnectionStrings__RabbitMq
fi
exec dotnet "$name.dll"
