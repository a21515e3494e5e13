#!/bin/sh
# The broker container's entrypoint (docker-compose.yml, the Kubernetes dev overlay): writes the platform's users
# (definitions.sh) where RabbitMQ imports them at every start, so a changed password takes effect on a restart, then
# starts RabbitMQ as the image would.
set -eu
definitions=/etc/rabbitmq/platform-definitions.json
umask 077
sh "$(dirname "$0")/definitions.sh" > "$definitions"
chown rabbitmq:rabbitmq "$definitions" 2>/dev/null || true
umask 022
mkdir -p /etc/rabbitmq/conf.d
# Read after the image's own 10-defaults.conf, which lets guest in from anywhere: guest is kept to loopback here.
printf 'load_definitions = %s\nloopback_users.guest = true\n' "$definitions" > /etc/rabbitmq/conf.d/90-platform.conf
exec docker-entrypoint.sh rabbitmq-server
