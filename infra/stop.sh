#!/usr/bin/env bash
# Stops everything the main command started: the six services, then RabbitMQ and PostgreSQL. Data stays in .data/.
set -uo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/services-down.sh"
bash "$here/infra-down.sh"
