#!/bin/sh
# Prints the platform broker's RabbitMQ definitions (JSON): its vhost, the operator's administrator, and a user per
# service that sends or receives messages (the gateway sends none), each with rights on that vhost only. There is
# no guest. RabbitMQ hashes the passwords as it imports the file (start.sh has it imported at every broker start).
# Read from the environment:
#   RABBITMQ_DEFAULT_USER, RABBITMQ_DEFAULT_PASS   the administrator (the broker image's own variables)
#   BROKER_PASSWORD_<SERVICE>                      INGESTION, TOKENIZATION, TRAINING, EVALUATION, GENERATION
#   BROKER_VHOST (default /), BROKER_USER_PREFIX (default platform: users are platform-<service>)
set -eu
vhost="${BROKER_VHOST:-/}"
prefix="${BROKER_USER_PREFIX:-platform}"

fail() { echo "broker definitions: $*" >&2; exit 64; }
# The same values go unescaped into the services' amqp:// URLs, and into the JSON below.
url_safe() {
  [ -n "$2" ] || fail "$1 is not set"
  case "$2" in *[!A-Za-z0-9._~-]*) fail "$1 may hold only letters, digits and . _ ~ -" ;; esac
}
url_safe BROKER_USER_PREFIX "$prefix"
url_safe RABBITMQ_DEFAULT_USER "${RABBITMQ_DEFAULT_USER:-}"
url_safe RABBITMQ_DEFAULT_PASS "${RABBITMQ_DEFAULT_PASS:-}"
case "$vhost" in *[!A-Za-z0-9._~/-]*) fail "BROKER_VHOST may hold only letters, digits and . _ ~ / -" ;; esac

user() { printf '{"name":"%s","password":"%s","tags":"%s"}' "$1" "$2" "$3"; }
rights() { printf '{"user":"%s","vhost":"%s","configure":".*","write":".*","read":".*"}' "$1" "$vhost"; }

users="$(user "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS" administrator)"
permissions="$(rights "$RABBITMQ_DEFAULT_USER")"
for service in ingestion tokenization training evaluation generation; do
  variable="BROKER_PASSWORD_$(echo "$service" | tr '[:lower:]' '[:upper:]')"
  eval "password=\${$variable:-}"
  url_safe "$variable" "$password"
  users="$users,$(user "$prefix-$service" "$password" "")"
  permissions="$permissions,$(rights "$prefix-$service")"
done
printf '{"vhosts":[{"name":"%s"}],"users":[%s],"permissions":[%s]}\n' "$vhost" "$users" "$permissions"
